from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.fieldrights import field_rights


class RecordForm(forms.ModelForm):
    """A model form that honours field rights (Y5) and carries the record version.

    Forms only check the shape of input; services apply the rules and write.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        rights = field_rights(user, self._meta.model)
        for name in rights.hidden:
            self.fields.pop(name, None)
        for name in rights.readonly:
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Read-only for your role.")
        if not hasattr(self._meta.model, "version"):
            self.fields.pop("version")
        elif self.instance.pk:
            self.fields["version"].initial = self.instance.version
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = (
                    f"{widget.attrs.get('class', '')} is-invalid".strip()
                )

    def _post_clean(self):
        # Model-level rules run in the service (with locks and the real record), not here.
        pass

    def service_data(self) -> dict:
        """The editable fields' cleaned values, for the service."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "version" and not self.fields[name].disabled
        }
