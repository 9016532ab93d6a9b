"""A report period chosen as a year or from/to dates: the one form reports and dashboards
share (sales analysis, channel dashboard)."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_DAYS = 3660  # a period of at most about ten years


class PeriodForm(forms.Form):
    """Year, or from/to; whatever is missing is filled in: no dates → the whole year
    (this year by default), one date → to or from the end of its year. Subclasses add
    their own filters."""

    year = forms.IntegerField(
        label=gettext_lazy("year"), min_value=2000, max_value=2100, required=False
    )
    date_from = forms.DateField(label=gettext_lazy("from"), required=False)
    date_to = forms.DateField(label=gettext_lazy("to"), required=False)

    def __init__(self, data=None, *, today=None, **kwargs):
        super().__init__(data, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["year"].widget.attrs["placeholder"] = str(self.today.year)
        self.fields["date_from"].widget.input_type = "date"
        self.fields["date_to"].widget.input_type = "date"

    def clean(self):
        data = super().clean()
        start, end, year = data.get("date_from"), data.get("date_to"), data.get("year")
        if "date_from" in self.errors or "date_to" in self.errors:
            return data
        if start is None and end is None:
            year = year or self.today.year
            start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        elif start is None:
            start = datetime.date(end.year, 1, 1)
        elif end is None:
            end = datetime.date(start.year, 12, 31)
        if end < start:
            self.add_error("date_to", _("The end of the period is before its start."))
        elif (end - start).days > MAX_DAYS:
            self.add_error("date_to", _("A period may span at most ten years."))
        data["date_from"], data["date_to"] = start, end
        return data
