from django.urls import path

app_name = "ivr"
urlpatterns: list = []
