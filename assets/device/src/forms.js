/* The volunteer record forms, read on the device: each reader turns the form's fields into
 * exactly the payload the online page used to give its service (app/pages/<form>.py
 * `*_input`), so the sync API applies it through the same service. Each also runs the checks
 * that need no server data, so the message shows next to the field before the form closes;
 * everything else is checked by the server at sync (and a refusal comes back next to the
 * field too). `entries` is a list of [name, value] pairs (FormData entries). */
import { addDays } from "./text.js";

const VISIT_CONTENT = ["counselling", "education", "support"];
const VISIT_RISKS = ["relapse", "health", "family", "housing", "legal", "money"];
const SAMPLES = ["urine", "saliva", "hair", "blood"];
const METHODS = ["rapid", "lab"];
const SUBSTANCES = ["heroin", "methamphetamine", "mdma", "ketamine", "cannabis", "other"];
const CONSENT_PURPOSES = ["case_management", "referral", "reporting"];
const CONSENT_CATEGORIES = ["drug_use", "test_results", "hiv_status", "police_records"];
const CLIENT_TEXT = ["full_name", "other_names", "phone", "national_id", "address", "former_address",
  "family_contact", "priority_group", "substances", "legal_rep_name", "legal_rep_phone"];
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function fields(entries) {
  const map = new Map();
  for (const [name, value] of entries) if (!map.has(name)) map.set(name, typeof value === "string" ? value : "");
  return {
    text: (name, limit = 2000) => (map.get(name) ?? "").slice(0, limit + 1),
    has: (name) => map.has(name) && map.get(name) !== "",
    names: () => [...map.keys()],
  };
}

/** A JSON integer id from a field, a "tmp:" id as is, null when empty (the sync API
 * refuses ids of any other type). */
function id(text) {
  const value = String(text ?? "").trim();
  if (!value) return null;
  if (value.startsWith("tmp:")) return value;
  return /^[0-9]{1,15}$/.test(value) ? Number(value) : value;
}

function int(text, fallback = null) {
  const value = String(text ?? "").trim();
  if (!value) return fallback;
  return /^-?[0-9]{1,15}$/.test(value) ? Number(value) : value;
}

function ticked(f, name, values) {
  return values.filter((v) => f.has(`${name}_${v}`));
}

/** Whole đồng from "50.000.000", "50 000 000", "50000000 đ"; else null (app/components/forms.py parse_vnd). */
export function parseVnd(raw) {
  const text = String(raw).trim().toLowerCase().replace(/đ$/, "").replace(/vnd$/, "").trim();
  if (!text || !/^[0-9][0-9. ]*$/.test(text)) return null;
  const digits = text.replace(/[. ]/g, "");
  return digits.length > 15 ? null : Number(digits);
}

/** A date field's checks (not in the future unless allowed; not before 2000). */
function checkDate(errors, name, value, today, { required = true, future = false } = {}) {
  if (!value) {
    if (required) errors[name] = "offline.error.required";
    return;
  }
  if (!ISO_DATE.test(value) || value < "2000-01-01" || (!future && value > today)) errors[name] = "error.date_range";
}

function chosen(errors, f, name, options) {
  const value = f.text(name, 40);
  if (!value || (options && !options.includes(value))) errors[name] = "rec.error.choose_one";
  return value;
}

const READERS = {
  visit(f, { clientId, today }) {
    const errors = {};
    const next = f.text("next_appointment", 10).trim();
    const payload = {
      client_id: clientId,
      visit_date: f.text("visit_date", 10).trim(),
      kind: f.text("kind", 40),
      content: ticked(f, "content", VISIT_CONTENT).join(","),
      notes: f.text("notes"),
      risk_flags: ticked(f, "risk", VISIT_RISKS).join(","),
      next_appointment: next || null,
    };
    checkDate(errors, "visit_date", payload.visit_date, today);
    if (!payload.kind) errors.kind = "rec.error.choose_one";
    if (next && payload.visit_date && !errors.visit_date
        && (next <= payload.visit_date || next > addDays(payload.visit_date, 365))) {
      errors.next_appointment = "error.appointment_range";
    }
    if (payload.notes.length > 2000) errors.notes = "error.too_long";
    return { payload, errors };
  },

  drug_test(f, { clientId, today }) {
    const errors = {};
    const payload = {
      client_id: clientId,
      tested_on: f.text("tested_on", 10).trim(),
      tested_time: f.text("tested_time", 8).trim() || null,
      result: chosen(errors, f, "result"),
      sample: chosen(errors, f, "sample", SAMPLES),
      method: chosen(errors, f, "method", METHODS),
      substances: ticked(f, "substance", SUBSTANCES).join(","),
      performed_by: f.text("performed_by", 120),
    };
    checkDate(errors, "tested_on", payload.tested_on, today);
    if (payload.tested_time && !/^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$/.test(payload.tested_time)) errors.tested_time = "error.invalid_value";
    return { payload, errors };
  },

  referral(f, { clientId, today }) {
    const errors = {};
    const facility = f.text("facility_id", 12).trim();
    const payload = {
      client_id: clientId,
      service: f.text("service", 40),
      facility_id: id(facility),
      referred_on: f.text("referred_on", 10).trim(),
      consent: f.has("consent"),
    };
    if (!payload.service) errors.service = "rec.error.choose_one";
    checkDate(errors, "referred_on", payload.referred_on, today);
    if (!payload.consent) errors.consent = "error.consent_required";
    return { payload, errors };
  },

  support(f, { clientId, today }) {
    const errors = {};
    const kind = f.text("kind", 40);
    const loan = kind === "loan";
    let amount = null;
    let term = null;
    if (loan) {
      const amountText = f.text("amount_vnd", 30);
      amount = parseVnd(amountText);
      if (amount === null && amountText.trim()) errors.amount_vnd = "rec.error.amount_format";
      else if (amount === null || amount < 1 || amount > 1e10) errors.amount_vnd = "error.amount_range";
      term = int(f.text("term_months", 6));
      const months = Number(term);
      if (!term || !Number.isInteger(months) || months < 1 || months > 120) errors.term_months = "error.term_range";
    }
    const payload = {
      client_id: clientId,
      kind,
      started_on: f.text("started_on", 10).trim(),
      amount_vnd: amount,
      term_months: term,
      fund_source: loan ? f.text("fund_source", 120) : "",
      notes: f.text("notes", 500),
      status: f.text("status", 20).trim() || "active",
    };
    if (!kind) errors.kind = "rec.error.choose_one";
    checkDate(errors, "started_on", payload.started_on, today);
    return { payload, errors };
  },

  outreach_contact(f, { today }) {
    const errors = {};
    const payload = {
      contact_date: f.text("contact_date", 10).trim(),
      place_id: id(f.text("place_id", 12)),
      category: f.text("category", 40),
      count: int(f.text("count", 12), 1),
      topic: f.text("topic", 200),
    };
    checkDate(errors, "contact_date", payload.contact_date, today);
    if (!payload.place_id) errors.place_id = "error.invalid_place";
    if (!payload.category) errors.category = "rec.error.choose_one";
    const count = Number(payload.count);
    if (!Number.isInteger(count) || count < 1 || count > 10000) errors.count = "error.count_range";
    return { payload, errors };
  },

  group_activity(f, { today }) {
    const errors = {};
    const clientIds = f.names().filter((n) => n.startsWith("client_") && f.has(n)).map((n) => id(n.slice(7)));
    const organiser = f.text("organiser_id", 12).trim();
    const clientsCount = f.text("attendees_clients", 7).trim();
    const payload = {
      kind: f.text("kind", 40),
      held_on: f.text("held_on", 10).trim(),
      place_id: id(f.text("place_id", 12)),
      organiser_id: id(organiser),
      topic: f.text("topic", 200),
      attendees_total: int(f.text("attendees_total", 7), 0),
      attendees_clients: int(clientsCount, clientIds.length),
      client_ids: clientIds.slice(0, 1000),
    };
    if (!payload.kind) errors.kind = "rec.error.choose_one";
    checkDate(errors, "held_on", payload.held_on, today);
    if (!payload.place_id) errors.place_id = "error.invalid_place";
    if (Number(payload.attendees_clients) > Number(payload.attendees_total)) errors.attendees_clients = "error.attendees_clients";
    return { payload, errors };
  },

  client(f, { today }) {
    const errors = {};
    const payload = {};
    for (const name of CLIENT_TEXT) payload[name] = f.text(name, 300).trim();
    const year = Number(f.text("birth_year", 6).trim());
    const thisYear = Number(today.slice(0, 4));
    const commune = Number(f.text("commune_id", 12).trim());
    const sex = f.text("sex", 10);
    if (!Number.isInteger(year) || year < 1900 || year > thisYear) errors.birth_year = "error.birth_year_range";
    if (!Number.isInteger(commune) || commune <= 0) errors.commune_id = "error.invalid_commune";
    if (!["male", "female", "other"].includes(sex)) errors.sex = "error.invalid_choice";
    if (payload.full_name.length < 2 || payload.full_name.length > 120) errors.full_name = "error.name_length";
    if (payload.national_id && !/^[0-9]{12}$/.test(payload.national_id)) errors.national_id = "error.national_id_format";
    if (payload.phone && !/^[0-9]{9,11}$/.test(payload.phone.replace(/[\s.+-]/g, ""))) errors.phone = "error.phone_format";
    if (Number.isInteger(year) && thisYear - year < 18 && !payload.legal_rep_name) errors.legal_rep_name = "error.legal_rep_required";
    Object.assign(payload, {
      birth_year: Number.isInteger(year) ? year : null,
      commune_id: Number.isInteger(commune) ? commune : null,
      sex,
      injects: f.has("injects"),
      national_id: payload.national_id || null,
      phone: payload.phone || null,
      consents: CONSENT_PURPOSES.filter((p) => f.has(`consent_${p}`))
        .map((purpose) => ({ purpose, sensitive_categories: [...CONSENT_CATEGORIES], given_on: today })),
    });
    if (!payload.consents.length) errors.consents = "error.consent_required";
    // Who gave the consent and how (app/services/privacy/consent.py giver_errors).
    Object.assign(payload, {
      consent_given_by: f.text("consent_given_by", 20).trim() || "subject",
      consent_representative_name: f.text("consent_representative_name", 200).trim(),
      consent_representative_relation: f.text("consent_representative_relation", 100).trim(),
      consent_method: f.text("consent_method", 20).trim() || "screen",
      consent_form_number: f.text("consent_form_number", 60).trim(),
    });
    if (!["subject", "representative"].includes(payload.consent_given_by)) errors.consent_given_by = "error.invalid_choice";
    else if (payload.consent_given_by === "representative") {
      const name = payload.consent_representative_name.length;
      const relation = payload.consent_representative_relation.length;
      if (name < 2 || name > 120) errors.consent_representative_name = "error.name_length";
      if (relation < 2 || relation > 60) errors.consent_representative_relation = "privacy.error.relation_required";
    }
    if (!["screen", "paper"].includes(payload.consent_method)) errors.consent_method = "error.invalid_choice";
    else if (payload.consent_method === "paper" && (payload.consent_form_number.length < 1 || payload.consent_form_number.length > 40)) {
      errors.consent_form_number = "privacy.error.form_number_required";
    }
    return { payload, errors };
  },
};

export const KINDS = Object.keys(READERS);
// The forms that stay open for the next record after a save (no one client).
export const STAYS_OPEN = new Set(["outreach_contact", "group_activity"]);

/** {payload, errors: {field: catalogue key}} for one form of `kind`. */
export function readForm(kind, entries, context) {
  const reader = READERS[kind];
  if (!reader) throw new Error("unknown form " + kind);
  return reader(fields(entries), context);
}
