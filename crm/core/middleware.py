from django.conf import settings
from django.contrib import messages
from django.contrib.auth import middleware as auth_middleware
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from rest_framework.views import APIView

from crm.core.errors import DomainError


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Every page needs a login (Y1); API views answer 401/403 themselves (session or token)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        if view_class is not None and issubclass(view_class, APIView):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class DomainErrorMiddleware:
    """HTML side of domain errors: 403/404 pages; 400/409 a message and back where the user was."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if not isinstance(exc, DomainError):
            return None
        if exc.status in (403, 404):
            return render(
                request,
                f"{exc.status}.html",
                {"message": exc.message},
                status=exc.status,
            )
        if getattr(request, "htmx", False):
            return HttpResponse(exc.message, status=exc.status)
        messages.error(request, exc.message)
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}
        ):
            back = "/"
        return redirect(back)


class LanguageMiddleware:
    """zh-hans for everybody unless they chose English with the switch (the language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, so an English
    browser in a Chinese company would open in English; X1 wants zh-hans by default.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response
