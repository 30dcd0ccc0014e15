"""Pages of identity: sign in (password or text-message code), register, reset a password by
code, and the account's security page (API tokens, password change).

Every page here answers ``Cache-Control: no-store``; every code or password check runs under the
guard against guessing (core/guard.py). A code flow keeps what it is about (the purpose,
the phone number, a registration's details with the password only as a hash) in the server-side
session between its two steps.
"""

from dataclasses import asdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView, LogoutView, PasswordChangeView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from core.edges import redirect_back
from core.errors import BaogongError
from core.forms import form_errors
from core.guard import Guard, client_ip, guarded
from core.phones import phone_display
from households import identity, rules, selectors, volunteers
from households.forms import CodeForm, PasswordResetCodeForm, PhoneForm, RegistrationForm, SignInForm
from households.models import CodePurpose, User
from households.permissions import rule_required
from households.volunteer_forms import VolunteerForm

FLOW = "code_flow"
BACKEND = "households.auth.PhoneNumberBackend"


@method_decorator(never_cache, name="dispatch")
@method_decorator(ratelimit(key="ip", rate=settings.SIGN_IN_RATE, method="POST"), name="post")
@method_decorator(ratelimit(key="post:username", rate=settings.SIGN_IN_RATE, method="POST"), name="post")
class SignInView(LoginView):
    """Sign in by username or phone and password; attempts are limited per address and per
    account name (django-ratelimit), wrong passwords back off (the guard, in the form)."""

    template_name = "households/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if getattr(form, "locked_out", False):
            response.status_code = 429
        return response


# --- the two steps of every code flow ------------------------------------------------------------------


def _flow_start(request: HttpRequest, *, purpose: str, phone: str, pending: dict | None = None) -> None:
    """Ask for a code and remember the flow; raises BaogongError (a limit) with nothing remembered."""
    sent = identity.phone_code_send(phone=phone, purpose=purpose, client_ip=client_ip(request))
    request.session[FLOW] = {
        "purpose": purpose,
        "phone": sent.phone,
        "pending": pending or {},
        # The demo has no phones: its console backend's code is shown on the page (never otherwise).
        "demo_code": sent.code if settings.SHOW_SMS_CODES else None,
    }


def _flow(request: HttpRequest, purpose: str) -> dict | None:
    flow = request.session.get(FLOW)
    return flow if isinstance(flow, dict) and flow.get("purpose") == purpose else None


STARTS = {
    CodePurpose.REGISTER: "register",
    CodePurpose.SIGN_IN: "login_code",
    CodePurpose.RESET: "password_reset",
    CodePurpose.VOLUNTEER: "volunteer_register",
}
TITLES = {  # lazy: translated in each request's language, not the one active at import
    CodePurpose.REGISTER: gettext_lazy("Register as a resident"),
    CodePurpose.SIGN_IN: gettext_lazy("Sign in with a text-message code"),
    CodePurpose.RESET: gettext_lazy("Set a new password"),
    CodePurpose.VOLUNTEER: gettext_lazy("Register as a volunteer"),
}


def _code_step(request: HttpRequest, *, purpose: str, form_class, finish) -> HttpResponse:
    """The second step: the code (and whatever the form adds), "send again", then ``finish``."""
    flow = _flow(request, purpose)
    if flow is None:
        return redirect(STARTS[purpose])
    form = form_class(request.POST if request.method == "POST" and "resend" not in request.POST else None)
    status = 200
    if request.method == "POST" and "resend" in request.POST:
        try:
            _flow_start(request, purpose=purpose, phone=flow["phone"], pending=flow["pending"])
        except BaogongError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, identity.code_sent_message())
        return redirect(request.path)
    if request.method == "POST" and form.is_valid():
        guard = Guard(ACCOUNT=flow["phone"], ADDRESS=client_ip(request))
        try:
            return guarded(guard, lambda: finish(request, flow, form.cleaned_data))
        except BaogongError as exc:
            form_errors(form, exc)
            status = exc.status_code
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "households/code_verify.html",
        {
            "form": form,
            "title": TITLES[purpose],
            "phone": phone_display(flow["phone"]),
            "demo_code": flow.get("demo_code"),
            "start_url": reverse(STARTS[purpose]),
            "purpose": purpose,
            "resend_seconds": settings.PHONE_CODE_RESEND_SECONDS,
        },
        status=status,
    )


def _phone_step(request: HttpRequest, *, purpose: str, intro: str) -> HttpResponse:
    """The first step of signing in or resetting by code: the phone number."""
    form = PhoneForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                _flow_start(request, purpose=purpose, phone=form.cleaned_data["phone"])
            except BaogongError as exc:
                form_errors(form, exc)
                status = exc.status_code
            else:
                messages.success(request, identity.code_sent_message())
                return redirect(f"{STARTS[purpose]}_verify")
    return render(
        request, "households/phone_form.html", {"form": form, "title": TITLES[purpose], "intro": intro}, status=status
    )


def _signed_in(request: HttpRequest, user: User) -> HttpResponse:
    request.session.pop(FLOW, None)
    login(request, user, backend=BACKEND)
    return redirect("home")


# --- registration -----------------------------------------------------------------------------------


@never_cache
@ratelimit(key="ip", rate=settings.REGISTER_RATE, method="POST")
def register(request: HttpRequest) -> HttpResponse:
    """Step 1: who and where (and an optional password); then a code is asked for the number."""
    if request.user.is_authenticated:
        return redirect("home")
    form = RegistrationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                password_hash = identity.password_hash_for(
                    data["password"], phone=data["phone"], name=data["contact_name"]
                )
                pending = {
                    "password_hash": password_hash,
                    "contact_name": data["contact_name"],
                    "building_id": data["building"].pk,
                    "unit": data["unit"],
                    "room": data["room"],
                }
                _flow_start(request, purpose=CodePurpose.REGISTER, phone=data["phone"], pending=pending)
            except BaogongError as exc:
                form_errors(form, exc)
                status = exc.status_code
            else:
                messages.success(request, identity.code_sent_message())
                return redirect("register_verify")
    return render(request, "households/register.html", {"form": form}, status=status)


def _register_finish(request: HttpRequest, flow: dict, data: dict) -> HttpResponse:
    result = identity.resident_register(phone=flow["phone"], code=data["code"], **flow["pending"])
    if isinstance(result, User):
        response = _signed_in(request, result)
        messages.success(request, _("Welcome! Your account is linked to your household."))
        return response
    request.session.pop(FLOW, None)
    return render(request, "households/register_pending.html", {"registration": result})


@never_cache
def register_verify(request: HttpRequest) -> HttpResponse:
    """Step 2: the code proves the number; only then is an account linked (or a request queued)."""
    return _code_step(request, purpose=CodePurpose.REGISTER, form_class=CodeForm, finish=_register_finish)


# --- volunteers (红马甲) ------------------------------------------------------------------------------


@never_cache
@ratelimit(key="ip", rate=settings.REGISTER_RATE, method="POST")
def volunteer_register(request: HttpRequest) -> HttpResponse:
    """Step 1: who, where, what and when (and an optional password); then a code for the number."""
    if request.user.is_authenticated:
        return redirect("home")
    form = VolunteerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                details = volunteers.volunteer_details_clean(form.details())
                password_hash = identity.password_hash_for(
                    form.cleaned_data["password"], phone=form.cleaned_data["phone"], name=details.name
                )
                pending = {"password_hash": password_hash, "details": asdict(details)}
                _flow_start(request, purpose=CodePurpose.VOLUNTEER, phone=form.cleaned_data["phone"], pending=pending)
            except BaogongError as exc:
                form_errors(form, exc)
                status = exc.status_code
            else:
                messages.success(request, identity.code_sent_message())
                return redirect("volunteer_register_verify")
    return render(request, "households/volunteer_register.html", {"form": form}, status=status)


def _volunteer_finish(request: HttpRequest, flow: dict, data: dict) -> HttpResponse:
    pending = flow["pending"]
    details = volunteers.VolunteerDetails(**{**pending["details"], "skills": tuple(pending["details"]["skills"])})
    volunteer = volunteers.volunteer_register(
        phone=flow["phone"], code=data["code"], password_hash=pending["password_hash"], details=details
    )
    request.session.pop(FLOW, None)
    return render(request, "households/volunteer_pending.html", {"volunteer": volunteer})


@never_cache
def volunteer_register_verify(request: HttpRequest) -> HttpResponse:
    """Step 2: the code proves the number; the registration then waits for the community's worker."""
    return _code_step(request, purpose=CodePurpose.VOLUNTEER, form_class=CodeForm, finish=_volunteer_finish)


# --- sign-in and password reset by code -------------------------------------------------------------------


@never_cache
@ratelimit(key="ip", rate=settings.SIGN_IN_RATE, method="POST")
def login_code(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    return _phone_step(
        request,
        purpose=CodePurpose.SIGN_IN,
        intro=_(
            "Residents and volunteers sign in with a code sent by text message to their phone: no password to remember."
        ),
    )


@never_cache
def login_code_verify(request: HttpRequest) -> HttpResponse:
    return _code_step(
        request,
        purpose=CodePurpose.SIGN_IN,
        form_class=CodeForm,
        finish=lambda request, flow, data: _signed_in(
            request, identity.resident_sign_in_by_code(phone=flow["phone"], code=data["code"])
        ),
    )


@never_cache
@ratelimit(key="ip", rate=settings.SIGN_IN_RATE, method="POST")
def password_reset(request: HttpRequest) -> HttpResponse:
    return _phone_step(
        request,
        purpose=CodePurpose.RESET,
        intro=_(
            "Residents set a new password with a code sent by text message. "
            "Staff accounts: ask your administrator to reset the password."
        ),
    )


def _reset_finish(request: HttpRequest, flow: dict, data: dict) -> HttpResponse:
    user = identity.resident_password_reset(phone=flow["phone"], code=data["code"], password=data["new_password"])
    response = _signed_in(request, user)
    messages.success(request, _("Your password was changed. Every other device was signed out."))
    return response


@never_cache
def password_reset_verify(request: HttpRequest) -> HttpResponse:
    return _code_step(request, purpose=CodePurpose.RESET, form_class=PasswordResetCodeForm, finish=_reset_finish)


# --- the account's security page -------------------------------------------------------------------------


@never_cache
@rule_required(rules.ACCOUNT)
def account_security(request: HttpRequest) -> HttpResponse:
    """The signed-in user's API tokens (revocable) and the way to change the password."""
    return render(
        request,
        "households/account_security.html",
        {"tokens": selectors.api_token_list(user=request.user), "token_days": settings.API_TOKEN_LIFETIME_DAYS},
    )


@require_POST
@rule_required(rules.ACCOUNT)
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if not identity.api_token_revoke(user=request.user, token_id=pk):
        raise Http404
    messages.success(request, _("The token was revoked: it no longer works."))
    return redirect("account_security")


@method_decorator(never_cache, name="dispatch")
class AccountPasswordChangeView(PasswordChangeView):
    """Django's password change; the new password ends every other session and every API token
    (both are bound to the password), this session stays signed in."""

    template_name = "households/password_change.html"
    success_url = reverse_lazy("account_security")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed. Every other device and API token was signed out."))
        return response


password_change = rule_required(rules.ACCOUNT)(AccountPasswordChangeView.as_view())


class SignOutView(LogoutView):
    """Signing out is a POST (a link cannot sign anyone out); a GET, such as a bookmark or a typed
    address, asks with a button instead of answering a blank 405."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return render(request, "registration/logout_confirm.html")


@require_POST
def large_text_toggle(request: HttpRequest) -> HttpResponse:
    """适老化: switch large text on or off. Kept with the account when signed in (on every device),
    in the session otherwise (the sign-in page, a phone borrowed for a moment)."""
    on = request.POST.get("large_text") == "on"
    if request.user.is_authenticated:
        User.objects.filter(pk=request.user.pk).update(large_text=on)
    request.session["large_text"] = on
    return redirect_back(request, "home")
