from django.urls import path

from designer_ui import views

app_name = "designer"
urlpatterns = [
    path("", views.flow_list, name="list"),
    path("flows/<slug:slug>/", views.editor, name="editor"),
    path("flows/<slug:slug>/analytics/", views.analytics, name="analytics"),
]
