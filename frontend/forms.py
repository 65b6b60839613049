"""Every form in the portal (Flask-WTF: each one carries and checks a CSRF token)."""

from __future__ import annotations

from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from frontend import password_policy
from frontend.services.support import MAX_INPUT_CHARS
from frontend.services.users import EMAIL
from frontend.state import get_state


def _strip(value):
    """Trimmed, and a browser's CRLF line breaks as LF: a line break is one character, in the
    page's counter, in the limit here and in the API's."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


def _email_format(form, field):
    if not EMAIL.match(field.data or ""):
        raise ValidationError("Enter a valid email address, like name@example.com.")


def _strong_password(form, field):
    """PASSWORD_MIN_LENGTH and the common-password list (frontend/password_policy.py); the name
    and email come from the form (sign-up) or the signed-in person (password change)."""
    email = form.email.data if hasattr(form, "email") else getattr(current_user, "email", None)
    name = form.name.data if hasattr(form, "name") else getattr(current_user, "name", None)
    issue = password_policy.problem(field.data or "", email=email, name=name,
                                    min_length=get_state().settings.password_min_length)
    if issue:
        raise ValidationError(issue)


class CharacterLimit(Length):
    """At most `max` characters, said plainly: how long the text is, by how much to shorten it,
    and that nothing was sent. The text stays in the box in full (never cut); the field still
    renders `maxlength`, which static/portal.js lifts for a live counter."""

    def __init__(self, max: int):
        super().__init__(max=max)

    def __call__(self, form, field):
        length = len(field.data or "")
        if length > self.max:
            raise ValidationError(
                f"This is {length:,} characters long; the limit is {self.max:,}. Please shorten "
                f"it by {length - self.max:,} characters. Nothing was sent.")


class LoginForm(FlaskForm):
    email = EmailField("Email", filters=[_strip],
                       validators=[DataRequired("Enter your email address."), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    next = HiddenField()
    submit = SubmitField("Sign in")


class RegisterForm(FlaskForm):
    name = StringField("Full name", filters=[_strip],
                       validators=[DataRequired("Tell us your name."), Length(max=200)])
    email = EmailField("Email", filters=[_strip],
                       validators=[DataRequired("Enter your email address."), Length(max=320),
                                   _email_format])
    password = PasswordField("Password", validators=[DataRequired("Choose a password."),
                                                     _strong_password])
    confirm = PasswordField("Confirm password", validators=[
        DataRequired("Type your password again."),
        EqualTo("password", message="The two passwords don't match.")])
    submit = SubmitField("Create account")


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password",
                            validators=[DataRequired("Enter your current password.")])
    password = PasswordField("New password", validators=[DataRequired("Choose a new password."),
                                                         _strong_password])
    confirm = PasswordField("Confirm new password", validators=[
        DataRequired("Type your new password again."),
        EqualTo("password", message="The two passwords don't match.")])
    submit = SubmitField("Change password")

    def validate_password(self, field):
        if field.data and field.data == self.current.data:
            raise ValidationError("Choose a password different from your current one.")


class SignOutOthersForm(FlaskForm):
    """Nothing to fill in, but CSRF-protected like every form."""

    submit = SubmitField("Sign out everywhere else")


class RequestForm(FlaskForm):
    message = TextAreaField("How can we help?", filters=[_strip], validators=[
        DataRequired("Tell us what you need."),
        CharacterLimit(MAX_INPUT_CHARS)])
    # Radio cards, not a <select>: a phone's select cuts an item name off at one line.
    order_id = RadioField("Which order is it about? (optional)", choices=[], default="",
                          validate_choice=True)
    request_key = HiddenField(validators=[Optional(), Regexp(r"^[0-9a-f]{32}$")])
    submit = SubmitField("Send request")


class ReplyForm(FlaskForm):
    message = TextAreaField("Your reply", filters=[_strip], validators=[
        DataRequired("Write a reply first."),
        CharacterLimit(MAX_INPUT_CHARS)])
    request_key = HiddenField(validators=[Optional(), Regexp(r"^[0-9a-f]{32}$")])
    submit = SubmitField("Send reply")


class OfferForm(FlaskForm):
    """Confirm or Not now on a proposal: nothing to fill in, but CSRF-protected like every form."""

    submit = SubmitField("Confirm")


RATING_LABELS = [("1", "Very poor"), ("2", "Poor"), ("3", "Okay"), ("4", "Good"),
                 ("5", "Excellent")]
SATISFIED_FROM = 3  # 1 and 2 mean "not satisfied": a person takes over (SPEC R6)


class FeedbackForm(FlaskForm):
    """One tap: the rating button pressed is the answer; 1-2 is "not satisfied" (escalates)."""

    rating = RadioField("How did we do?", choices=RATING_LABELS,
                        validators=[InputRequired("Choose a rating from 1 to 5.")])
    comment = TextAreaField("Comment (optional)", filters=[_strip],
                            validators=[Optional(), CharacterLimit(2000)])

    @property
    def is_satisfied(self) -> bool:
        return int(self.rating.data) >= SATISFIED_FROM


class SettleCaseForm(FlaskForm):
    """Resolve or close a case (POST /cases/{id}/resolve or /close); the customer reads the
    note on their ticket."""

    outcome = RadioField("Outcome", choices=[("resolved", "Resolved"), ("closed", "Closed")],
                         default="resolved", validators=[InputRequired("Choose an outcome.")])
    note = TextAreaField("Note for the record", filters=[_strip], validators=[
        DataRequired("Add a note: what was done, or why the case is closed."),
        CharacterLimit(2000)])
    submit = SubmitField("Save")


class AssignCaseForm(FlaskForm):
    """Take the case (no assignee: the signed-in person) or give it to another member of staff."""

    assignee = SelectField("Assign to", choices=[], validate_choice=True)
    submit = SubmitField("Assign")


class StaffReplyForm(FlaskForm):
    message = TextAreaField("Reply to the customer", filters=[_strip], validators=[
        DataRequired("Write a reply first."),
        CharacterLimit(MAX_INPUT_CHARS)])
    submit = SubmitField("Send reply")


class CaseNoteForm(FlaskForm):
    body = TextAreaField("Internal note", filters=[_strip], validators=[
        DataRequired("Write the note first."), CharacterLimit(MAX_INPUT_CHARS)])
    submit = SubmitField("Add note")


class DecisionForm(FlaskForm):
    decision = RadioField("Decision", choices=[("approve", "Approve the refund"),
                                               ("deny", "Deny it")],
                          validators=[InputRequired("Choose approve or deny.")])
    reason = TextAreaField("Reason", filters=[_strip], validators=[CharacterLimit(2000)])
    submit = SubmitField("Record decision")

    def validate_reason(self, field):
        if self.decision.data == "deny" and not field.data:
            raise ValidationError("Give the reason: the customer reads it.")


class HandBackForm(FlaskForm):
    """Nothing to fill in, but CSRF-protected like every form."""

    submit = SubmitField("Hand back to the assistant")


class PolicyUploadForm(FlaskForm):
    document = FileField("Policy document (.md, UTF-8, up to 200 KB)",
                         validators=[FileRequired("Choose a markdown file to upload.")])
    submit = SubmitField("Upload")
