"""The apps browser's filters, read from the URL: a value that is not one of the choices is
left out (and named on the page), never an error."""

from django import forms

from qlik.models import QlikAppUsage
from qlik.selectors import APP_SORTS

YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
RELOAD = [("", "Any"), ("ok", "Succeeded"), ("failed", "Failed"), ("never", "Never reloaded")]
SORTS = [(key, key) for key in APP_SORTS] + [(f"-{key}", f"-{key}") for key in APP_SORTS]


class AppBrowserForm(forms.Form):
    """`?q=sales&usage=unused&sort=-last_reload` and the like."""

    q = forms.CharField(required=False, max_length=200, label="Name or GUID")
    space = forms.ChoiceField(required=False, choices=())
    owner = forms.ChoiceField(required=False, choices=())
    usage = forms.ChoiceField(required=False, choices=[("", "Any"), *QlikAppUsage.Classification.choices])
    reload = forms.ChoiceField(required=False, choices=RELOAD, label="Last reload")
    stale = forms.ChoiceField(required=False, choices=YES_NO)
    published = forms.ChoiceField(required=False, choices=YES_NO)
    section_access = forms.ChoiceField(required=False, choices=YES_NO, label="Section access")
    failed_on = forms.DateField(
        required=False, label="Reload failed on", widget=forms.DateInput(attrs={"type": "date"})
    )
    connection_type = forms.CharField(required=False, max_length=100, label="Connection type")
    sort = forms.ChoiceField(required=False, choices=SORTS, widget=forms.HiddenInput)

    def __init__(self, data, *, spaces: list[tuple[str, str]], owners: list[tuple[str, str]]):
        super().__init__(data)
        self.fields["space"].choices = [("", "Any"), ("personal", "Personal (no space)"), *spaces]
        self.fields["owner"].choices = [("", "Any"), *owners]

    def filters(self) -> dict:
        """The valid filters as `app_browse` takes them (invalid ones dropped)."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}
        data.pop("sort", None)
        for name in ("stale", "published", "section_access"):
            if name in data:
                data[name] = data[name] == "yes"
        if "failed_on" in data:
            data["failed_on"] = data["failed_on"].isoformat()
        return data

    def query(self) -> dict:
        """The valid filters as they stand in the URL (for links that keep them)."""
        return {name: self.data[name] for name in self.cleaned_data if self.data.get(name) not in (None, "")}
