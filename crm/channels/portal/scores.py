"""Partner portal pages: the partner's targets with achievement and its scores.

Only scores of CLOSED periods are shown: an open period's scores are provisional (HQ
may recompute them) and would confuse more than inform. Every read filters by the
request's partner, so another partner's score id is not found (404)."""

from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from crm.channels.portal.access import portal_view
from crm.channels.selectors.scores import (
    breakdown_rows,
    percent_of,
    period_name,
    portal_score_get,
    portal_scores,
    portal_targets,
)


@portal_view
def scores(request):
    targets = [
        {
            "target": t,
            "period": period_name(t.period_kind, t.starts_on),
            "rate": percent_of(t.sell_through_actual, t.sales_amount),
        }
        for t in portal_targets(request.partner)[:24]
    ]
    items = [
        {"score": s, "rows": breakdown_rows(s)} for s in portal_scores(request.partner)
    ]
    return render(
        request,
        "channels/portal/scores/scores.html",
        {
            "title": _("Targets & scores"),
            "partner": request.partner,
            "targets": targets,
            "scores": items,
            "base_template": "channels/portal/base.html",
        },
    )


@portal_view
def score_detail(request, pk):
    score = portal_score_get(request.partner, pk)
    return render(
        request,
        "channels/portal/scores/score_detail.html",
        {
            "title": f"{score.period}",
            "score": score,
            "rows": breakdown_rows(score),
        },
    )


urlpatterns = [
    path("scores/", scores, name="scores"),
    path("scores/<int:pk>/", score_detail, name="score-detail"),
]
