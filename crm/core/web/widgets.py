"""Widgets written for speed where Django's are slow."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe


class QuickSelectMixin:
    """Renders the <select> in Python, straight from the choices. Django renders one template
    per option and builds a dict of attributes for each (about 0.2 ms an option), and list
    filters offer hundreds (regions, employees, departments): the customer list's filters took
    100 ms of a 130 ms page (X6). The markup is Django's, without the newlines."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            attrs["multiple"] = True
        chosen = {str(v) for v in self.format_value(value)}
        parts = [f'<select name="{escape(name)}"{flatatt(attrs)}>']
        for option_value, label in self.choices:
            if isinstance(label, list | tuple):
                parts.append(f'<optgroup label="{escape(option_value)}">')
                parts.extend(_option(v, text, chosen) for v, text in label)
                parts.append("</optgroup>")
            else:
                parts.append(_option(option_value, label, chosen))
        parts.append("</select>")
        return mark_safe("".join(parts))  # every name, value and label is escaped


def _option(value, label, chosen: set[str]) -> str:
    value = "" if value is None else str(value)
    selected = " selected" if value in chosen else ""
    return f'<option value="{escape(value)}"{selected}>{escape(label)}</option>'


class QuickSelect(QuickSelectMixin, forms.Select):
    pass


class QuickSelectMultiple(QuickSelectMixin, forms.SelectMultiple):
    pass


QUICK = {forms.Select: QuickSelect, forms.SelectMultiple: QuickSelectMultiple}


def quicken(widget) -> None:
    """Swap a plain Select/SelectMultiple for its quick twin, keeping choices and attrs."""
    quick = QUICK.get(type(widget))
    if quick is not None:
        widget.__class__ = quick
