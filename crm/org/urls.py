from django.urls import path

from crm.org.web import announcements, views

app_name = "org"
urlpatterns = [
    path("departments/", views.department_tree, name="department-tree"),
    path(
        "departments/new/", views.DepartmentFormView.as_view(), name="department-create"
    ),
    path(
        "departments/<int:pk>/",
        views.DepartmentDetailView.as_view(),
        name="department-detail",
    ),
    path(
        "departments/<int:pk>/edit/",
        views.DepartmentFormView.as_view(),
        name="department-edit",
    ),
    path(
        "departments/<int:pk>/deactivate/",
        views.department_deactivate,
        name="department-deactivate",
    ),
    path("employees/", views.EmployeeListView.as_view(), name="employee-list"),
    path("employees/new/", views.EmployeeFormView.as_view(), name="employee-create"),
    path(
        "employees/<int:pk>/",
        views.EmployeeDetailView.as_view(),
        name="employee-detail",
    ),
    path(
        "employees/<int:pk>/edit/",
        views.EmployeeFormView.as_view(),
        name="employee-edit",
    ),
    path(
        "employees/<int:pk>/deactivate/",
        views.employee_deactivate,
        name="employee-deactivate",
    ),
    path("roles/", views.RoleListView.as_view(), name="role-list"),
    path("roles/new/", views.role_edit, name="role-create"),
    path("roles/<int:pk>/", views.role_edit, name="role-edit"),
    # S10 company news
    path("news/", announcements.announcement_list, name="announcement-list"),
    path("news/new/", announcements.announcement_edit, name="announcement-create"),
    path(
        "news/<int:pk>/",
        announcements.announcement_detail,
        name="announcement-detail",
    ),
    path(
        "news/<int:pk>/edit/",
        announcements.announcement_edit,
        name="announcement-edit",
    ),
    path(
        "news/<int:pk>/publish/",
        announcements.announcement_publish,
        name="announcement-publish",
    ),
    path(
        "news/<int:pk>/withdraw/",
        announcements.announcement_withdraw,
        name="announcement-withdraw",
    ),
    path(
        "news/<int:pk>/delete/",
        announcements.announcement_delete,
        name="announcement-delete",
    ),
]
