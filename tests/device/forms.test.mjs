import assert from "node:assert/strict";
import { test } from "node:test";

import { readForm } from "../../assets/device/src/forms.js";

const TODAY = "2026-12-07";
const BASE = [["full_name", "Lò Văn Mới"], ["birth_year", "1993"], ["sex", "male"], ["commune_id", "12"],
  ["consent_case_management", "on"]];

test("a registration says who gave the consent and how: the person, on screen, unless told", () => {
  const { payload, errors } = readForm("client", BASE, { today: TODAY });
  assert.deepEqual(errors, {});
  assert.equal(payload.consent_given_by, "subject");
  assert.equal(payload.consent_method, "screen");
  assert.equal(payload.consents.length, 1);
});

test("a representative must be named with their relation; a paper form needs its number", () => {
  const { errors } = readForm("client", [...BASE, ["consent_given_by", "representative"], ["consent_method", "paper"]], { today: TODAY });
  assert.deepEqual(Object.keys(errors).sort(), ["consent_form_number", "consent_representative_name", "consent_representative_relation"]);
  const ok = readForm("client", [...BASE, ["consent_given_by", "representative"], ["consent_representative_name", "Lò Thị Mẹ"],
    ["consent_representative_relation", "mẹ"], ["consent_method", "paper"], ["consent_form_number", "PĐY-12"]], { today: TODAY });
  assert.deepEqual(ok.errors, {});
  assert.equal(ok.payload.consent_representative_relation, "mẹ");
  assert.equal(ok.payload.consent_form_number, "PĐY-12");
  assert.equal(readForm("client", [...BASE, ["consent_given_by", "someone"]], { today: TODAY }).errors.consent_given_by, "error.invalid_choice");
});

test("a drug test carries its time when given (the 24-hour clock starts from it)", () => {
  const base = [["tested_on", "2026-12-06"], ["result", "positive"], ["sample", "urine"], ["method", "rapid"]];
  assert.equal(readForm("drug_test", [...base, ["tested_time", "21:30"]], { clientId: 4, today: TODAY }).payload.tested_time, "21:30");
  assert.equal(readForm("drug_test", base, { clientId: 4, today: TODAY }).payload.tested_time, null);
  assert.equal(readForm("drug_test", [...base, ["tested_time", "25:00"]], { clientId: 4, today: TODAY }).errors.tested_time, "error.invalid_value");
});
