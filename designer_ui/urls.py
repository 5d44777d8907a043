from django.urls import path

from designer_ui import history_views, views

app_name = "designer"
urlpatterns = [
    path("", views.flow_list, name="list"),
    path("flows/<slug:slug>/", views.editor, name="editor"),
    path("calls/", history_views.call_list, name="calls"),
    path("calls/<str:sid>/", history_views.call_detail, name="call"),
    path("customers/<int:pk>/", history_views.customer_detail, name="customer"),
    path("flows/<slug:slug>/analytics/", views.analytics, name="analytics"),
]
