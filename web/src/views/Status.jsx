// The loading, error and empty states every view shows the same way.
export function Status({ state, t, emptyText }) {
  if (state.loading) return <p class="status loading" role="status">{t.loading}</p>;
  if (state.error)
    return (
      <p class="status error" role="alert">
        {t.error}: {state.error}
      </p>
    );
  if (state.empty) return <p class="status empty">{emptyText}</p>;
  return null;
}
