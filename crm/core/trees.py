"""Materialised-path maintenance for TreeNode models (departments, product categories)."""

from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from crm.core.errors import Invalid


def tree_place(node) -> None:
    """Set path and depth of a freshly saved node from its parent."""
    parent_path = node.parent.path if node.parent_id else "/"
    node.path = f"{parent_path}{node.pk}/"
    node.depth = node.parent.depth + 1 if node.parent_id else 0
    type(node).objects.filter(pk=node.pk).update(path=node.path, depth=node.depth)


def tree_move(node, new_parent) -> None:
    """Move a node and its whole subtree under `new_parent` (None: to the root)."""
    if new_parent is not None and (
        new_parent.pk == node.pk or new_parent.path.startswith(node.path)
    ):
        raise Invalid(
            _("A node cannot be moved under itself or its own descendant."),
            fields={"parent": [_("Choose a node outside this subtree.")]},
        )
    model = type(node)
    old_path, old_depth = node.path, node.depth
    new_path = f"{new_parent.path if new_parent else '/'}{node.pk}/"
    new_depth = new_parent.depth + 1 if new_parent else 0
    model.objects.filter(pk=node.pk).update(parent=new_parent)
    model.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + (new_depth - old_depth),
    )
    node.parent, node.path, node.depth = new_parent, new_path, new_depth


def subtree_ids(model, node) -> list[int]:
    return list(
        model.objects.filter(path__startswith=node.path).values_list("pk", flat=True)
    )
