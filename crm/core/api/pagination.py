from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

from crm.core.errors import Invalid
from crm.core.lists import CappedPaginator


class CappedPageNumberPagination(PageNumberPagination):
    """Page numbers with a capped count ("count_capped": true means "at least count")."""

    django_paginator_class = CappedPaginator
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": min(paginator.count, paginator.cap),
                "count_capped": paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        result = super().get_paginated_response_schema(schema)
        result["properties"]["count_capped"] = {"type": "boolean"}
        return result


class IdCursorPagination(CursorPagination):
    """Keyset pagination for very large lists: constant cost on any page."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        """A cursor that no previous page gave is invalid input (400), not a missing record."""
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise Invalid(
                _("The cursor is invalid."),
                fields={"cursor": [_("Use the link of the previous page.")]},
            ) from None
