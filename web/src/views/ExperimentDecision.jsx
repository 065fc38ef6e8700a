// The ship decision with its reasons and the API's plain-language summary (both written by the API
// in the page's locale, which ExperimentResults asks for), and the SRM banner.
import { formatValue } from "../format.js";
import { formatP, formatPClause } from "./effects.js";

export function Decision({ decision, t }) {
  return (
    <div class={`decision verdict-${decision.verdict.replaceAll(" ", "-")}`} data-verdict={decision.verdict}>
      <p class="verdict">
        {t.decision}: <strong>{t.verdicts[decision.verdict]}</strong>
        {decision.variant && <> · {t.variant} <code>{decision.variant}</code></>}
      </p>
      <ul class="reasons" aria-label={t.reasons}>
        {decision.reasons.map((reason) => (
          <li data-reason={reason.code}>
            <span class="badge">{t.reasonCodes[reason.code] ?? reason.code}</span> {reason.message}
          </li>
        ))}
      </ul>
      <p class="summary" data-summary>
        {decision.summary}
      </p>
    </div>
  );
}

/** A warning when the split differs from the plan (p below the threshold), a quiet line otherwise. */
export function SrmBanner({ srm, variants, t, locale }) {
  const p = formatPClause(srm.p_value, locale);
  if (srm.passed) {
    return (
      <p class="srm ok" data-srm="passed">
        {t.srmOk(p)}
      </p>
    );
  }
  const split = (values) => values.map((v) => formatValue(v, "count", locale, t)).join(" : ");
  return (
    <div class="srm failed" role="alert" data-srm="failed">
      <strong>{t.srmFailed(p, formatP(srm.threshold, locale))}</strong>
      <p>
        {variants.map((v) => v.name).join(" : ")} — {t.observed} <span data-split="observed">{split(srm.observed)}</span>,{" "}
        {t.expected} <span data-split="expected">{split(srm.expected)}</span> ({t.units.count})
      </p>
      {srm.message && <p>{srm.message}</p>}
    </div>
  );
}
