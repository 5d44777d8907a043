from django.urls import path
from django.http import HttpResponse

app_name = "designer"
urlpatterns = [
    path("flows/<slug:slug>/", lambda r, slug: HttpResponse(slug), name="editor"),
]
