from django import template

from crm.channels.portal.menu import portal_menu

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_nav(context):
    return portal_menu(context["request"])
