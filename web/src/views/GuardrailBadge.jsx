// A guardrail metric's role and how it stands (guardrail_verdict of POST /ab/breakdown and of
// the timeline's points), by the rules of the experiment's decision.
export function GuardrailBadge({ verdict, t }) {
  return (
    <span class={`badge guardrail-${verdict}`} data-guardrail={verdict}>
      {t.roles.guardrail}: {t.guardrailVerdicts[verdict]}
    </span>
  );
}
