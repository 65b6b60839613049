"""Staff: the policy documents the agent answers from; view, upload, replace."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from frontend.forms import PolicyUploadForm
from frontend.markdown_view import render
from frontend.security import staff_required
from frontend.services import policies
from frontend.state import get_state

bp = Blueprint("policies", __name__, url_prefix="/staff/policies")


def _folder():
    return get_state().settings.policies_dir


@bp.route("/", methods=["GET", "POST"])
@staff_required
def index():
    form = PolicyUploadForm()
    status = 200
    if form.validate_on_submit():
        upload = form.document.data
        name = upload.filename or ""
        data = upload.stream.read(policies.MAX_BYTES + 1)
        try:
            replaced = policies.save_policy(_folder(), name, data)
        except policies.PolicyRejected as exc:
            form.document.errors.append(str(exc))
        else:
            flash(f"{name} {'replaced' if replaced else 'added'}. The assistant's policy index "
                  "picks up the change automatically.", "success")
            return redirect(url_for("policies.show", name=name))
    if form.is_submitted():
        status = 400
    return render_template("staff/policies.html", form=form,
                           documents=policies.list_policies(_folder())), status


@bp.route("/<name>")
@staff_required
def show(name: str):
    text = policies.read_policy(_folder(), name)
    if text is None:
        abort(404)
    return render_template("staff/policy.html", name=name, html=render(text))
