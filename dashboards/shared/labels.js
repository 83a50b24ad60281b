// Words for the platform's codes (alarm states, outcomes, roles, permissions...): served by GET /api/meta/labels
// from the one table beside the Python enums, loaded once after sign-in. label(kind, code) in i18n.js reads them.
import { api } from "/ui/shared/session.js";
import { setLabels } from "/ui/shared/i18n.js";

let loading = null;

export function loadLabels() {
  loading = loading || api("/api/meta/labels").then((body) => {
    setLabels(body.labels);
    return body.labels;
  }).catch((error) => {
    loading = null;
    throw error;
  });
  return loading;
}
