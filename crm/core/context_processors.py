from functools import partial

from crm.core.menu import menu_for
from crm.core.notifications import unread_count
from crm.core.params import get_param


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "menu": menu_for(user, request.path),
        "company_name": get_param("company_name"),
        # X4 bell: a callable, so the count query runs only on pages that show the bell.
        "notifications_unread": partial(unread_count, user),
    }
