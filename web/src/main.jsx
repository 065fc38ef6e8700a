// The dashboard: a header (views, language, API key) and the view the URL's hash names.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { apiKey, snapshot } from "./api.js";
import { formatTime } from "./format.js";
import { LANGUAGES, useLanguage } from "./i18n.js";
import { Experiments } from "./views/Experiments.jsx";
import { Kpis } from "./views/Kpis.jsx";
import { Model } from "./views/Model.jsx";
import { Pipeline } from "./views/Pipeline.jsx";
import { Reports } from "./views/Reports.jsx";
import "./style.css";

const VIEWS = { kpis: Kpis, experiments: Experiments, pipeline: Pipeline, model: Model, reports: Reports };

function viewFromHash() {
  const name = location.hash.replace(/^#\/?/, "").split("/")[0]; // #/experiments/<id>: experiments
  return name in VIEWS ? name : "kpis";
}

function App() {
  const { language, setLanguage, t, locale, timeZone } = useLanguage();
  const [view, setView] = useState(viewFromHash);
  const [key, setKey] = useState(apiKey.get);
  const [keyVersion, setKeyVersion] = useState(0); // a new key reloads the view
  useEffect(() => {
    const follow = () => setView(viewFromHash());
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);
  const View = VIEWS[view];
  return (
    <>
      <header>
        <h1>{t.title}</h1>
        <nav aria-label="views">
          {Object.keys(VIEWS).map((name) => (
            <a href={`#/${name}`} aria-current={name === view ? "page" : undefined}>
              {t[name]}
            </a>
          ))}
        </nav>
        <div class="settings">
          <div class="languages" role="group" aria-label={t.language}>
            {Object.entries(LANGUAGES).map(([code, { name }]) => (
              <button type="button" data-language={code} aria-pressed={code === language} onClick={() => setLanguage(code)}>
                {name}
              </button>
            ))}
          </div>
          <form
            class="api-key"
            onSubmit={(e) => {
              e.preventDefault();
              apiKey.set(key.trim());
              setKeyVersion((v) => v + 1);
            }}
          >
            <input type="password" name="api-key" autocomplete="off" placeholder={t.apiKey} title={t.apiKeyHint} value={key} onInput={(e) => setKey(e.currentTarget.value)} />
            <button type="submit">{t.save}</button>
          </form>
        </div>
      </header>
      {snapshot && (
        <p class="snapshot-note" role="note">
          {t.snapshotNote} {formatTime(snapshot.taken, locale, timeZone)}. {t.snapshotDisabled}
        </p>
      )}
      <main>
        <View key={`${view}-${keyVersion}`} t={t} locale={locale} timeZone={timeZone} />
      </main>
    </>
  );
}

render(<App />, document.getElementById("app"));
