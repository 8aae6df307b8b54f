// Verification page for court clerks. Every value from the package is inserted with
// textContent, never as HTML: a package is untrusted input.
"use strict";

const TEXT = {
  zh: {
    title: "电子劳动合同证据核验",
    intro: "将劳动合同文件与证据包拖入下方，或点击选择文件。核验只依据区块链上的记录，不依赖签约服务。",
    documentLabel: "合同文件（PDF 或其他格式，可选）",
    packageLabel: "证据包（hrss-evidence/1 JSON）",
    verifyButton: "开始核验",
    timelineTitle: "时间线", checksTitle: "核验步骤", pathTitle: "用人单位资质链",
    colSeq: "序号", colEvent: "事件", colVersion: "版本", colSigner: "签署方",
    colClaimed: "签署时间（自述）", colBlock: "区块", colBlockTime: "上链时间（可信时间）",
    colDetail: "说明", colCheck: "检查项", colResult: "结果", colWhy: "原因",
    colRole: "层级", colEntity: "链上标识", colRegion: "行政区划", colAtSigning: "签署时状态", colNow: "当前状态",
    footer: "依据《电子劳动合同订立指引》：身份核验、签约意愿确认、可靠电子签名、可信时间、全过程留证。",
    toggle: "English",
    verdict: { verified: "已验证 · 证据真实有效", not_effective: "证据真实 · 合同未生效", failed: "验证失败" },
    verdictDetail: {
      verified: "合同文件与证据包一致，所有签名、上链记录与资质均已在区块链上核实。",
      verified_no_document: "证据包已核实；未提供合同文件，文件本身未比对。",
      not_effective: "证据真实，但该版本合同仅有用人单位签署，劳动者尚未签署，合同未生效。",
      failed: "未通过的检查项：",
    },
    status: { awaiting_employee_signature: "待劳动者签署（未生效）", effective: "已生效", superseded: "已被新版本取代",
              terminated: "已解除/终止", unknown: "未知" },
    result: { passed: "通过", failed: "未通过", skipped: "未执行" },
    events: { employer_signed: "用人单位签署", employee_signed: "劳动者签署", terminated: "解除/终止" },
    roles: { employer: "用人单位", employee: "劳动者", province: "省级人社厅", ministry: "人社部" },
    kinds: { none: "未登记", ministry: "人社部", province: "省级人社厅", issuer: "发证机构", employer: "用人单位",
             data_user: "数据使用方", court: "仲裁/审判机构", unknown: "未知类型" },
    entityStatus: { none: "未登记", active: "有效", suspended: "已暂停", revoked: "已撤销", unknown: "未知" },
    facts: { relation: "签订方式", hr_operator: "经办人", reason_code: "解除原因代码", reason: "解除原因",
             effective_date: "解除生效日期" },
    relations: { original: "首次订立", amendment: "变更", renewal: "续订" },
    acceptedOffer: "劳动者接受该版本",
    noVersion: "该文件不是本合同的任何版本",
    unverifiedTitle: "以下内容未经核验（证据包自述，无人签名，不能作为证据）",
    unverified: { employer_name: "用人单位名称" },
    reasonMissing: "（无法显示原因，原因代码：{code}）",
    checks: {
      format: "证据包格式", document: "合同文件摘要比对", event_chain: "事件哈希链完整",
      signer_keys: "签名密钥已在链上登记", signatures: "电子签名有效", anchoring: "上链存证（可信时间）",
      key_validity: "密钥在签署与上链时有效", accreditation: "用人单位资质链",
      employee_identity: "劳动者身份（电子社保卡）", key_terms: "关键条款承诺",
      lifecycle: "合同生命周期", both_parties_signed: "双方均已签署（合同生效）",
    },
    employeeTitle: "劳动者身份（电子社保卡核验）",
    employeeFacts: { name: "姓名", id: "身份证号", issuer: "发卡机构" },
    summary: { contract: "合同编号", creditCode: "用人单位统一社会信用代码", employee: "劳动者（DID）",
               version: "所核验版本", versionStatus: "该版本状态", contractStatus: "合同当前状态",
               effectiveAt: "生效时间（上链）", digest: "文件摘要" },
    qrHint: "此报告对应合同 {contract}，文件摘要 {digest}。请拖入合同文件与证据包进行核验。",
    errorPrefix: "无法核验：",
    needPackage: "请先选择证据包文件。",
  },
  en: {
    title: "Electronic labour contract evidence verification",
    intro: "Drop the contract document and its evidence package below, or click to choose files. Verification relies on the blockchain only, not on the signing service.",
    documentLabel: "Contract document (PDF or any file, optional)",
    packageLabel: "Evidence package (hrss-evidence/1 JSON)",
    verifyButton: "Verify",
    timelineTitle: "Timeline", checksTitle: "Verification steps", pathTitle: "Employer accreditation path",
    colSeq: "#", colEvent: "Event", colVersion: "Version", colSigner: "Signed by",
    colClaimed: "Signing time (claimed)", colBlock: "Block", colBlockTime: "Anchored at (trusted time)",
    colDetail: "Details", colCheck: "Check", colResult: "Result", colWhy: "Why",
    colRole: "Level", colEntity: "On-chain id", colRegion: "Region", colAtSigning: "Status at signing", colNow: "Status now",
    footer: "Following the MOHRSS guideline on electronic labour contracts: identity verified, intent confirmed, reliable e-signatures, trusted time, the whole process kept as evidence.",
    toggle: "中文",
    verdict: { verified: "Verified", not_effective: "Authentic evidence · contract NOT effective", failed: "Verification FAILED" },
    verdictDetail: {
      verified: "The document matches the evidence package; every signature, anchor and accreditation was confirmed on the blockchain.",
      verified_no_document: "The evidence package is verified; no document was given, so the document itself was not compared.",
      not_effective: "The evidence is authentic, but this version was signed by the employer only: the employee has not signed, so it is not effective.",
      failed: "Failed check: ",
    },
    status: { awaiting_employee_signature: "awaiting the employee's signature (not effective)", effective: "effective",
              superseded: "superseded by a later version", terminated: "terminated", unknown: "unknown" },
    result: { passed: "passed", failed: "FAILED", skipped: "skipped" },
    events: { employer_signed: "employer signed", employee_signed: "employee signed", terminated: "terminated" },
    roles: { employer: "employer", employee: "employee", province: "provincial HRSS department", ministry: "ministry" },
    kinds: { none: "not registered", ministry: "ministry", province: "provincial HRSS department", issuer: "issuer",
             employer: "employer", data_user: "data user", court: "court", unknown: "unknown kind" },
    entityStatus: { none: "not registered", active: "active", suspended: "suspended", revoked: "revoked", unknown: "unknown" },
    facts: { relation: "relation", hr_operator: "HR operator", reason_code: "reason code", reason: "reason",
             effective_date: "effective date" },
    relations: { original: "original", amendment: "amendment", renewal: "renewal" },
    acceptedOffer: "the employee accepted this version",
    noVersion: "the file is none of this contract's versions",
    unverifiedTitle: "Not verified (stated in the package, signed by no one, not evidence)",
    unverified: { employer_name: "Employer name" },
    reasonMissing: "(reason cannot be shown; reason code: {code})",
    checks: {
      format: "package format", document: "document digest", event_chain: "event hash chain",
      signer_keys: "signing keys registered on chain", signatures: "signatures", anchoring: "anchoring (trusted time)",
      key_validity: "keys valid at signing and anchoring", accreditation: "employer accreditation path",
      employee_identity: "employee identity (e-card)",
      key_terms: "key-terms commitments", lifecycle: "contract lifecycle", both_parties_signed: "signed by both parties (effective)",
    },
    employeeTitle: "Employee identity (verified with the e-card)",
    employeeFacts: { name: "Name", id: "ID number", issuer: "Card issuer" },
    summary: { contract: "Contract", creditCode: "Employer's unified social credit code", employee: "Employee (DID)",
               version: "Version verified", versionStatus: "Status of this version", contractStatus: "Contract status now",
               effectiveAt: "Effective at (anchored)", digest: "Document digest" },
    qrHint: "This report refers to contract {contract}, document digest {digest}. Drop the document and the evidence package to verify.",
    errorPrefix: "Cannot verify: ",
    needPackage: "Choose the evidence package first.",
  },
};

const params = new URLSearchParams(window.location.search);
let lang = params.get("lang") === "en" ? "en" : "zh";
let lastReport = null;
let reasonTexts = {};  // the reason catalogue: code -> {en, zh}, from /verify/reasons.json

function t(key) { return TEXT[lang][key]; }

// Parameters that are identifiers the page translates; "time" is Unix seconds.
const TRANSLATED_PARAMS = { event: "events", role: "roles", kind: "kinds", status: "status" };

function fill(template, params) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    return String(params[name]);
  });
}

function reasonText(check) {
  const texts = reasonTexts[check.code];
  if (!check.code || !texts) return fill(t("reasonMissing"), { code: check.code || "—" });
  const params = {};
  for (const [name, value] of Object.entries(check.params || {})) {
    const table = TRANSLATED_PARAMS[name];
    if (table) params[name] = t(table)[value] || value;
    else if (name === "time") params[name] = formatTime(value);
    else if (name === "checks") params[name] = String(value).split(", ").map((c) => t("checks")[c] || c).join("、");
    else params[name] = value;
  }
  if (texts[lang].includes("{label}")) params.label = fill(reasonTexts._label[lang], params);
  return fill(texts[lang], params);
}

function timelineDetail(entry) {
  const facts = Object.entries(entry.facts || {});
  if (!facts.length) return entry.event === "employee_signed" ? t("acceptedOffer") : "—";
  return facts.map(([name, value]) => {
    const shown = name === "relation" ? (t("relations")[value] || value) : value;
    return (t("facts")[name] || name) + (lang === "zh" ? "：" : ": ") + shown;
  }).join(lang === "zh" ? "；" : "; ");
}

function formatTime(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const date = new Date(seconds * 1000);
  return date.toISOString().replace("T", " ").replace(".000Z", " UTC");
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "—" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const element of document.querySelectorAll("[data-i18n]")) {
    const value = t(element.dataset.i18n);
    if (typeof value === "string") element.textContent = value;
  }
  document.getElementById("lang-toggle").textContent = t("toggle");
  const contract = params.get("contract");
  const digest = params.get("digest");
  const hint = document.getElementById("qr-hint");
  if (contract && digest) {
    hint.textContent = t("qrHint").replace("{contract}", contract).replace("{digest}", digest);
    hint.hidden = false;
  }
  if (lastReport) render(lastReport);
}

function render(report) {
  const verdict = document.getElementById("verdict");
  verdict.className = "verdict " + report.verdict;
  verdict.dataset.verdict = report.verdict;
  verdict.textContent = t("verdict")[report.verdict];
  const detail = document.getElementById("verdict-detail");
  const details = t("verdictDetail");
  if (report.verdict === "failed") {
    const failure = report.checks.find((c) => c.status === "failed");
    detail.textContent = details.failed + (failure ? t("checks")[failure.name] + (lang === "zh" ? "：" : ": ") + reasonText(failure) : "");
  } else if (report.verdict === "verified" && !report.document_checked) {
    detail.textContent = details.verified_no_document;
  } else {
    detail.textContent = details[report.verdict];
  }
  detail.dataset.firstFailure = report.first_failure || "";

  const summary = document.getElementById("summary");
  summary.replaceChildren();
  const s = t("summary");
  const status = t("status");
  // A document that matched no version is about no version: say so, not "version 1, effective".
  const noVersion = report.document_checked && report.subject_version === null;
  // The digest under the hash the package names for it (SHA-256, or SM3 in the national profile).
  const digestAlg = { "sha-256": "SHA-256", sm3: "SM3" }[report.document_digest_alg];
  const digest = report.document_digest && digestAlg ? `${digestAlg} ${report.document_digest}` : report.document_digest;
  const rows = [
    ["contract", s.contract, report.contract_id],
    ["credit-code", s.creditCode, report.employer && report.employer.credit_code],
    ["employee", s.employee, report.employee], ["digest", s.digest, digest],
    ["version", s.version, noVersion ? t("noVersion") : report.subject_version],
    ["version-status", s.versionStatus, noVersion ? "—" : status[report.version_status]],
    ["contract-status", s.contractStatus, status[report.contract_status]],
    ["effective-at", s.effectiveAt, formatTime(report.effective_at)],
  ];
  for (const [id, label, value] of rows) {
    const dt = document.createElement("dt"); dt.textContent = label;
    const dd = document.createElement("dd"); dd.textContent = value === null || value === undefined ? "—" : String(value);
    dd.id = id;
    summary.append(dt, dd);
  }

  // The employee as the e-card proved them: present only when employee_identity passed.
  const employee = document.getElementById("employee-identity");
  const facts = document.getElementById("employee-identity-list");
  facts.replaceChildren();
  const identity = report.employee_identity;
  if (identity) {
    const f = t("employeeFacts");
    const issuer = identity.card_issuer_name
      ? `${identity.card_issuer_name} (${identity.card_issuer})` : identity.card_issuer;
    for (const [id, label, value] of [
      ["employee-name", f.name, identity.name],
      ["employee-id-number", f.id, identity.id_number_masked],
      ["card-issuer", f.issuer, issuer],
    ]) {
      const dt = document.createElement("dt"); dt.textContent = label;
      const dd = document.createElement("dd"); dd.textContent = String(value); dd.id = id;
      facts.append(dt, dd);
    }
  }
  document.getElementById("employee-identity-title").textContent = t("employeeTitle");
  employee.hidden = !identity;

  // What the package states but nobody signed: shown apart, marked, never beside the verdict.
  const unverified = document.getElementById("unverified");
  const list = document.getElementById("unverified-list");
  list.replaceChildren();
  for (const [name, value] of Object.entries(report.unverified || {})) {
    if (value === null || value === undefined) continue;
    const dt = document.createElement("dt"); dt.textContent = t("unverified")[name] || name;
    const dd = document.createElement("dd"); dd.textContent = String(value); dd.dataset.unverified = name;
    list.append(dt, dd);
  }
  document.getElementById("unverified-title").textContent = t("unverifiedTitle");
  unverified.hidden = !list.children.length;

  const timeline = document.querySelector("#timeline tbody");
  timeline.replaceChildren();
  for (const entry of report.timeline) {
    const row = document.createElement("tr");
    row.dataset.event = entry.event;
    cell(row, entry.sequence, "short");
    cell(row, t("events")[entry.event] || entry.event, "short");
    cell(row, entry.version, "short");
    cell(row, entry.signer, entry.signer.startsWith("did:") ? "long" : "");
    cell(row, formatTime(entry.claimed_at));
    cell(row, entry.block_number, "short");
    cell(row, formatTime(entry.block_time));
    cell(row, timelineDetail(entry));
    timeline.appendChild(row);
  }

  const checks = document.querySelector("#checks tbody");
  checks.replaceChildren();
  for (const check of report.checks) {
    const row = document.createElement("tr");
    row.className = check.status;
    row.dataset.check = check.name;
    cell(row, t("checks")[check.name] || check.name).title = check.name;
    cell(row, t("result")[check.status], "short status-" + check.status);
    const why = cell(row, reasonText(check), "reason");
    why.dataset.code = check.code || "";
    checks.appendChild(row);
  }

  const path = document.querySelector("#accreditation tbody");
  path.replaceChildren();
  for (const link of report.accreditation) {
    const row = document.createElement("tr");
    cell(row, t("roles")[link.role] || link.role);
    cell(row, link.entity_id, "long");
    cell(row, link.region);
    cell(row, t("entityStatus")[link.status_at_signing] || link.status_at_signing);
    cell(row, t("entityStatus")[link.status_now] || link.status_now);
    path.appendChild(row);
  }
  document.getElementById("result").hidden = false;
}

function showError(message) {
  const error = document.getElementById("error");
  error.textContent = t("errorPrefix") + message;
  error.hidden = false;
}

async function submit(event) {
  event.preventDefault();
  document.getElementById("error").hidden = true;
  const packageFile = document.getElementById("package-input").files[0];
  const documentFile = document.getElementById("document-input").files[0];
  if (!packageFile) { showError(t("needPackage")); return; }
  const body = new FormData();
  body.append("package", packageFile);
  if (documentFile) body.append("document", documentFile);
  document.body.dataset.state = "verifying";
  try {
    const response = await fetch("/v1/evidence/verify", { method: "POST", body });
    const data = await response.json();
    if (!response.ok) { showError(data.message || response.statusText); return; }
    lastReport = data;
    render(data);
  } catch (err) {
    showError(String(err));
  } finally {
    document.body.dataset.state = "done";
  }
}

function wireDrop(zoneId, inputId, nameId) {
  const zone = document.getElementById(zoneId);
  const input = document.getElementById(inputId);
  const name = document.getElementById(nameId);
  input.addEventListener("change", () => { name.textContent = input.files[0] ? input.files[0].name : ""; });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      input.dispatchEvent(new Event("change"));
    }
  });
}

async function loadReasons() {
  try {
    const response = await fetch("/verify/reasons.json");
    if (response.ok) reasonTexts = await response.json();
  } catch (err) {
    reasonTexts = {};  // reasons then show their codes, never a wrong text
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  wireDrop("drop-document", "document-input", "document-name");
  wireDrop("drop-package", "package-input", "package-name");
  document.getElementById("verify-form").addEventListener("submit", submit);
  document.getElementById("lang-toggle").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    applyLanguage();
  });
  await loadReasons();
  applyLanguage();
  document.body.dataset.ready = "1";
});
