from django.urls import path

from crm.org.web import views

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
]
