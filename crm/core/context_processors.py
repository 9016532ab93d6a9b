from crm.core.menu import menu_for
from crm.core.params import get_param


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "menu": menu_for(user, request.path),
        "company_name": get_param("company_name"),
    }
