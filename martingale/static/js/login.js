// The phone apps' sign-in and sign-out (the shell's page only: templates/dashboard/_shell_login.html).
// Signed in, the refresh token waits in secure storage and the next launch needs no password.
import * as api from "./api.js";
import * as tokens from "./tokens.js";
import { emit } from "./state.js";
import { $, $$, setText } from "./dom.js";

let registering = false;

/** The signed-in player's account, or null after showing the sign-in form. */
export async function signIn() {
  wireLogout();
  if (!(await tokens.accessToken())) {
    showForm();
    return null;
  }
  const account = await api.get("/account");
  for (const el of $$('[data-role="shell-who"]')) setText(el, account.display_name);
  for (const b of $$('[data-action="shell-logout"]')) b.hidden = false;
  return account;
}

function wireLogout() {
  for (const b of $$('[data-action="shell-logout"]')) {
    b.addEventListener("click", async () => {
      b.disabled = true;
      await tokens.logout();
      window.location.assign("/");
    });
  }
}

function setMode(register) {
  registering = register;
  setText($('[data-role="login-title"]'), register ? "Create an account" : "Log in");
  setText($('[data-role="login-submit"]'), register ? "Create account" : "Log in");
  setText($('[data-action="login-mode"]'), register ? "Have an account? Log in" : "New here? Create an account");
  $('[data-role="register-only"]').hidden = !register;
  $("#shell-password").autocomplete = register ? "new-password" : "current-password";
}

function showForm() {
  $("#app").hidden = true;
  $("#shell-login").hidden = false;
  const error = $("#shell-login-error");
  $('[data-action="login-mode"]').addEventListener("click", () => setMode(!registering));
  $("#shell-login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const [username, password] = [form.username.value.trim(), form.password.value];
    error.hidden = true;
    form.querySelector("button[type=submit]").disabled = true;
    try {
      if (registering) await tokens.register(username, password, form.display_name.value.trim());
      else await tokens.login(username, password);
      window.location.assign("/");
    } catch (err) {
      setText(error, err.status ? err.message : "The game’s server could not be reached. Try again in a moment.");
      error.hidden = false;
      form.querySelector("button[type=submit]").disabled = false;
    }
  });
  emit("login");
}
