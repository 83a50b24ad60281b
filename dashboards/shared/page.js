// What every signed-in page does first: no token → the sign-in page; translate the static texts; wire the
// language and sign-out buttons (#lang, #logout, when the page has them); then the user (/api/auth/me) and the
// labels of the platform's codes, both once. Resolves with the user; a 401 has already signed out.
import { $ } from "/ui/shared/dom.js";
import { toggleLocale, translatePage } from "/ui/shared/i18n.js";
import { loadLabels } from "/ui/shared/labels.js";
import { logout, me, token } from "/ui/shared/session.js";

export function preparePage() {
  if (!token()) {
    location.href = "/ui/";
    return false;
  }
  translatePage();
  $("#lang")?.addEventListener("click", toggleLocale);
  $("#logout")?.addEventListener("click", logout);
  return true;
}

export async function signedIn() {
  const [user] = await Promise.all([me(), loadLabels()]);
  return user;
}
