// Login: password, then the 6-digit code from the app (or a recovery code). The first login
// walks through enrolment: QR code, code, then the recovery codes once with an explicit
// "I have saved them" step.

import { ApiError } from "../api.js";
import { formatDateTime, register, t } from "../i18n.js";
import { el, errorMessage } from "../ui.js";

register({
  de: {
    "login.title": "Anmelden",
    "login.intro": "Melden Sie sich mit Ihrem Benutzernamen und Passwort an.",
    "login.username": "Benutzername",
    "login.password": "Passwort",
    "login.submit": "Weiter",
    "login.busy": "Bitte warten …",
    "login.code.title": "Bestätigungscode",
    "login.code.intro": "Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App ein.",
    "login.code.label": "Code aus Ihrer App",
    "login.code.hint": "6 Ziffern, z. B. 123456",
    "login.code.submit": "Anmelden",
    "login.code.useRecovery": "Ich habe mein Telefon nicht – Wiederherstellungscode verwenden",
    "login.code.useApp": "Code aus der App verwenden",
    "login.recovery.label": "Wiederherstellungscode",
    "login.recovery.intro": "Geben Sie einen Ihrer Wiederherstellungscodes ein. Jeder Code gilt nur einmal.",
    "login.recoveryLeft": "Angemeldet. Sie haben noch {n} Wiederherstellungscodes.",
    "login.back": "Zurück",
    "login.enrol.title": "Zweiten Faktor einrichten",
    "login.enrol.step1": "1. Öffnen Sie Ihre Authenticator-App (z. B. FreeOTP, Aegis, Google Authenticator) und scannen Sie diesen QR-Code.",
    "login.enrol.qrAlt": "QR-Code für die Authenticator-App",
    "login.enrol.manual": "QR-Code lässt sich nicht scannen? Diesen Schlüssel von Hand eingeben:",
    "login.enrol.step2": "2. Geben Sie den 6-stelligen Code ein, den die App jetzt anzeigt.",
    "login.enrol.submit": "Einrichtung abschließen",
    "login.codes.title": "Ihre Wiederherstellungscodes",
    "login.codes.intro": "Mit diesen Codes kommen Sie herein, wenn Ihr Telefon verloren geht. Sie werden nur dieses eine Mal angezeigt. Schreiben Sie sie auf oder drucken Sie sie aus und bewahren Sie sie sicher auf.",
    "login.codes.copy": "Codes kopieren",
    "login.codes.copied": "Kopiert.",
    "login.codes.print": "Drucken",
    "login.codes.saved": "Ich habe die Codes sicher aufbewahrt.",
    "login.codes.continue": "Weiter zu Plenum",
    "login.error.invalid-credentials": "Benutzername, Passwort oder Code stimmen nicht. Bitte prüfen Sie Ihre Eingabe.",
    "login.error.totp-replayed": "Dieser Code wurde schon benutzt. Bitte warten Sie auf den nächsten Code in der App.",
    "login.error.token-expired": "Die Anmeldung hat zu lange gedauert. Bitte beginnen Sie noch einmal.",
    "login.error.code-format": "Bitte geben Sie die 6 Ziffern aus der App ein.",
    "login.error.rate-limited": "Zu viele Versuche. Bitte warten Sie {seconds} Sekunden.",
    "login.error.second-factor-locked": "Zu viele falsche Codes. Melden Sie sich mit einem Wiederherstellungscode an, von einem Gerät, auf dem Sie schon angemeldet waren, oder bitten Sie die Verwaltung, Ihr Konto zu entsperren.",
    "login.failures.title": "Fehlgeschlagene Anmeldeversuche",
    "login.failures.text": "Seit Ihrer letzten Anmeldung wurde {n}-mal ein falscher Code für Ihr Konto eingegeben (zuletzt am {at}). Waren Sie das nicht, kennt jemand Ihr Passwort: Ändern Sie es jetzt und informieren Sie die Verwaltung.",
  },
  en: {
    "login.title": "Sign in",
    "login.intro": "Sign in with your user name and password.",
    "login.username": "User name",
    "login.password": "Password",
    "login.submit": "Continue",
    "login.busy": "Please wait …",
    "login.code.title": "Verification code",
    "login.code.intro": "Enter the 6-digit code from your authenticator app.",
    "login.code.label": "Code from your app",
    "login.code.hint": "6 digits, e.g. 123456",
    "login.code.submit": "Sign in",
    "login.code.useRecovery": "I don't have my phone – use a recovery code",
    "login.code.useApp": "Use the code from the app",
    "login.recovery.label": "Recovery code",
    "login.recovery.intro": "Enter one of your recovery codes. Each code works once.",
    "login.recoveryLeft": "Signed in. You have {n} recovery codes left.",
    "login.back": "Back",
    "login.enrol.title": "Set up the second factor",
    "login.enrol.step1": "1. Open your authenticator app (e.g. FreeOTP, Aegis, Google Authenticator) and scan this QR code.",
    "login.enrol.qrAlt": "QR code for the authenticator app",
    "login.enrol.manual": "Can't scan the QR code? Type this key into the app:",
    "login.enrol.step2": "2. Enter the 6-digit code the app shows now.",
    "login.enrol.submit": "Finish setup",
    "login.codes.title": "Your recovery codes",
    "login.codes.intro": "These codes let you in if you lose your phone. They are shown only this once. Write them down or print them and keep them safe.",
    "login.codes.copy": "Copy codes",
    "login.codes.copied": "Copied.",
    "login.codes.print": "Print",
    "login.codes.saved": "I have stored the codes safely.",
    "login.codes.continue": "Continue to Plenum",
    "login.error.invalid-credentials": "User name, password or code is not right. Please check what you entered.",
    "login.error.totp-replayed": "This code was used already. Please wait for the next code in the app.",
    "login.error.token-expired": "Signing in took too long. Please start again.",
    "login.error.code-format": "Please enter the 6 digits from the app.",
    "login.error.rate-limited": "Too many attempts. Please wait {seconds} seconds.",
    "login.error.second-factor-locked": "Too many wrong codes. Sign in with a recovery code, from a device you signed in on before, or ask an administrator to unlock your account.",
    "login.failures.title": "Failed sign-in attempts",
    "login.failures.text": "Since your last sign-in, a wrong code was entered for your account {n} times (last on {at}). If that was not you, someone knows your password: change it now and tell the administration.",
  },
});

function loginError(error) {
  const kind = error instanceof ApiError ? error.kind : "";
  if (kind === "rate-limited") {
    const seconds = error.problem?.retry_after ?? 30;
    return t("login.error.rate-limited", { seconds });
  }
  if (["invalid-credentials", "totp-replayed", "token-expired", "second-factor-locked"].includes(kind)) {
    return t(`login.error.${kind}`);
  }
  if (["token-invalid", "token-wrong-audience"].includes(kind)) return t("login.error.token-expired");
  return errorMessage(error);
}

function field(id, label, attrs, hint) {
  const input = el("input", { id, name: id, class: "input", ...attrs });
  const wrap = el("div", { class: "field" }, el("label", { for: id }, label), input);
  if (hint) {
    const hintId = `${id}-hint`;
    wrap.append(el("p", { class: "field-hint", id: hintId }, hint));
    input.setAttribute("aria-describedby", hintId);
  }
  return { wrap, input };
}

export async function mount(root, _params, ctx) {
  const { api, navigate } = ctx;
  const flow = { mfaToken: null, username: "" };
  const card = el("section", { class: "card login-card", "aria-labelledby": "login-title" });
  root.append(card);

  const alert = () => el("p", { class: "form-error", role: "alert", hidden: true });

  function showError(box, error) {
    box.textContent = typeof error === "string" ? error : loginError(error);
    box.hidden = false;
  }

  async function busy(button, fn) {
    const label = button.textContent;
    button.disabled = true;
    button.textContent = t("login.busy");
    try {
      await fn();
    } finally {
      if (button.isConnected) {
        button.disabled = false;
        button.textContent = label;
      }
    }
  }

  function render(...children) {
    card.replaceChildren(...children);
    const heading = card.querySelector("h1");
    heading?.setAttribute("tabindex", "-1");
    heading?.focus();
  }

  function finish(session) {
    api.setSession(session);
    navigate(ctx.afterLogin());
  }

  // Step 1: user name and password.
  function passwordStep() {
    const user = field("username", t("login.username"), {
      type: "text", autocomplete: "username", autocapitalize: "none", spellcheck: "false", required: true,
      value: flow.username,
    });
    const pass = field("password", t("login.password"), {
      type: "password", autocomplete: "current-password", required: true,
    });
    const error = alert();
    const submit = el("button", { type: "submit", class: "button button-primary button-block" }, t("login.submit"));
    const form = el("form", { class: "form", novalidate: true }, user.wrap, pass.wrap, error, submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      error.hidden = true;
      flow.username = user.input.value.trim();
      busy(submit, async () => {
        try {
          const answer = await api.post("/api/v1/auth/login", {
            username: flow.username,
            password: pass.input.value,
          });
          flow.mfaToken = answer.mfa_token;
          if (answer.next === "enrol") await enrolStep();
          else codeStep(false);
        } catch (e) {
          showError(error, e);
          pass.input.select();
        }
      });
    });
    render(el("h1", { id: "login-title", class: "page-title" }, t("login.title")),
      el("p", { class: "lead-small" }, t("login.intro")), form);
    user.input.value ? pass.input.focus() : null;
  }

  // Step 2: the TOTP code, or a recovery code.
  function codeStep(recovery) {
    const input = recovery
      ? field("recovery", t("login.recovery.label"), {
        type: "text", autocomplete: "off", autocapitalize: "none", spellcheck: "false", required: true,
      })
      : field("code", t("login.code.label"), {
        type: "text", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9 ]*",
        maxlength: "7", required: true, class: "input input-code",
      }, t("login.code.hint"));
    const error = alert();
    const submit = el("button", { type: "submit", class: "button button-primary button-block" }, t("login.code.submit"));
    const form = el("form", { class: "form", novalidate: true }, input.wrap, error, submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      error.hidden = true;
      const value = input.input.value.replace(/\s+/g, "");
      if (!recovery && !/^\d{6}$/.test(value)) {
        showError(error, t("login.error.code-format"));
        input.input.focus();
        return;
      }
      busy(submit, async () => {
        try {
          const body = recovery
            ? { mfa_token: flow.mfaToken, recovery_code: input.input.value.trim() }
            : { mfa_token: flow.mfaToken, code: value };
          const session = await api.post("/api/v1/auth/totp", body);
          if (session.second_factor_failures) failuresStep(session);
          else if (typeof session.recovery_codes_left === "number") recoveryLeftStep(session);
          else finish(session);
        } catch (e) {
          if (e instanceof ApiError && ["token-expired", "token-invalid"].includes(e.kind)) {
            passwordStep();
            return;
          }
          showError(error, e);
          input.input.select();
        }
      });
    });
    const toggle = el("button", {
      type: "button", class: "link-button",
      onclick: () => codeStep(!recovery),
    }, recovery ? t("login.code.useApp") : t("login.code.useRecovery"));
    const back = el("button", { type: "button", class: "link-button", onclick: passwordStep }, t("login.back"));
    render(
      el("h1", { id: "login-title", class: "page-title" }, recovery ? t("login.recovery.label") : t("login.code.title")),
      el("p", { class: "lead-small" }, recovery ? t("login.recovery.intro") : t("login.code.intro")),
      form,
      el("div", { class: "form-links" }, toggle, back),
    );
    input.input.focus();
  }

  // Failed second-factor attempts since the last sign-in: the user is told before going on.
  function failuresStep(session) {
    const notice = session.second_factor_failures;
    const at = notice.last_attempt ? formatDateTime(notice.last_attempt) : "–";
    const next = el("button", {
      type: "button", class: "button button-primary button-block",
      onclick: () => (typeof session.recovery_codes_left === "number" ? recoveryLeftStep(session) : finish(session)),
    }, t("login.codes.continue"));
    render(
      el("h1", { id: "login-title", class: "page-title" }, t("login.failures.title")),
      el("p", { class: "notice", role: "alert" }, t("login.failures.text", { n: notice.failed_attempts, at })),
      el("p", { class: "button-row" }, next),
    );
  }

  // After a recovery code: how many are left, before going on.
  function recoveryLeftStep(session) {
    const next = el("button", {
      type: "button", class: "button button-primary button-block", onclick: () => finish(session),
    }, t("login.codes.continue"));
    render(
      el("h1", { id: "login-title", class: "page-title" }, t("login.recovery.label")),
      el("p", { class: "notice", role: "status" }, t("login.recoveryLeft", { n: session.recovery_codes_left })),
      el("p", { class: "button-row" }, next),
    );
  }

  // First login: QR code, then a code to confirm.
  async function enrolStep() {
    const enrol = await api.post("/api/v1/auth/totp/enrol", { mfa_token: flow.mfaToken });
    const code = field("code", t("login.code.label"), {
      type: "text", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9 ]*",
      maxlength: "7", required: true, class: "input input-code",
    }, t("login.code.hint"));
    const error = alert();
    const submit = el("button", { type: "submit", class: "button button-primary button-block" }, t("login.enrol.submit"));
    const form = el("form", { class: "form", novalidate: true }, code.wrap, error, submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      error.hidden = true;
      const value = code.input.value.replace(/\s+/g, "");
      if (!/^\d{6}$/.test(value)) {
        showError(error, t("login.error.code-format"));
        code.input.focus();
        return;
      }
      busy(submit, async () => {
        try {
          const session = await api.post("/api/v1/auth/totp/confirm", { mfa_token: flow.mfaToken, code: value });
          recoveryCodesStep(session);
        } catch (e) {
          showError(error, e);
          code.input.select();
        }
      });
    });
    const secret = (enrol.secret ?? "").replace(/(.{4})/g, "$1 ").trim();
    render(
      el("h1", { id: "login-title", class: "page-title" }, t("login.enrol.title")),
      el("p", {}, t("login.enrol.step1")),
      el("img", { class: "qr", src: enrol.qr_svg, alt: t("login.enrol.qrAlt"), width: "240", height: "240" }),
      el("p", { class: "field-hint" }, t("login.enrol.manual")),
      el("p", { class: "secret" }, el("code", { translate: "no" }, secret)),
      el("p", {}, t("login.enrol.step2")),
      form,
    );
  }

  // Shown once: the recovery codes, with an explicit confirmation.
  function recoveryCodesStep(session) {
    const codes = session.recovery_codes ?? [];
    const list = el("ol", { class: "recovery-codes" }, ...codes.map((c) => el("li", {}, el("code", {}, c))));
    const status = el("p", { class: "field-hint", role: "status" });
    const copy = el("button", {
      type: "button", class: "button button-secondary",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(codes.join("\n"));
          status.textContent = t("login.codes.copied");
        } catch {
          status.textContent = "";
        }
      },
    }, t("login.codes.copy"));
    const print = el("button", { type: "button", class: "button button-secondary", onclick: () => window.print() }, t("login.codes.print"));
    const check = el("input", { type: "checkbox", id: "codes-saved", class: "checkbox" });
    const next = el("button", {
      type: "button", class: "button button-primary button-block", disabled: true,
      onclick: () => finish(session),
    }, t("login.codes.continue"));
    check.addEventListener("change", () => {
      next.disabled = !check.checked;
    });
    render(
      el("h1", { id: "login-title", class: "page-title" }, t("login.codes.title")),
      el("p", {}, t("login.codes.intro")),
      list,
      el("div", { class: "button-row" }, copy, print),
      status,
      el("div", { class: "check-field" }, check, el("label", { for: "codes-saved" }, t("login.codes.saved"))),
      next,
    );
  }

  passwordStep();
  const first = card.querySelector("#username");
  return () => {
    first?.blur();
  };
}
