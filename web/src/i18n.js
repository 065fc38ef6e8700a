// The two languages of the dashboard: labels, and the locale numbers and dates are written in.
import { useEffect, useState } from "preact/hooks";

const STORED = "execkpi.language";

// Times: UTC in English (the API's own), the shop's Berlin time in German.
export const LANGUAGES = {
  en: { locale: "en-US", name: "English", timeZone: "UTC" },
  de: { locale: "de-DE", name: "Deutsch", timeZone: "Europe/Berlin" },
};

const LABELS = {
  en: {
    title: "ExecKPI",
    kpis: "KPIs",
    experiments: "Experiments",
    model: "Model",
    pipeline: "Pipeline",
    comingNext: "coming next",
    apiKey: "API key",
    apiKeyHint: "sent as X-API-Key when set",
    save: "Save",
    language: "Language",
    revenueOverTime: "Revenue, orders and AOV over time",
    grain: "Grain",
    day: "Day",
    week: "Week",
    month: "Month",
    from: "From",
    to: "To",
    metric: "Metric",
    loading: "Loading…",
    empty: "No data for this range.",
    error: "Could not load the data",
    download: "Download",
    partial: "partial",
    partialNote: "Partial periods (not yet over, or cut by the range) are marked and drawn hollow.",
    latest: "Latest complete period",
    covers: "Covers",
    status: "Status",
    all: "All",
    planned: "planned",
    running: "running",
    finished: "finished",
    experiment: "Experiment",
    start: "Start",
    end: "End",
    primaryMetric: "Primary metric",
    otherMetrics: "Other metrics",
    variants: "Variants",
    asOf: "Status as of",
    noExperiments: "No experiments with this status.",
    yes: "yes",
    no: "no",
    columns: {
      period: "Period",
      orders: "Orders",
      items: "Items",
      revenue: "Revenue",
      aov: "AOV",
      cancelled_orders: "Cancelled",
      returned_orders: "Returned",
      customers: "Customers",
      complete: "Complete",
    },
    metrics: { conversion: "conversion", revenue_per_user: "revenue per user" },
    units: { count: "count" },
    pipelineRuns: "Recent pipeline runs",
    noRuns: "No pipeline runs yet.",
    run: "Run",
    startedAt: "Started",
    stages: { build: "Build", validation: "Validation", training: "Training" },
  },
  de: {
    title: "ExecKPI",
    kpis: "Kennzahlen",
    experiments: "Experimente",
    model: "Modell",
    pipeline: "Pipeline",
    comingNext: "folgt",
    apiKey: "API-Schlüssel",
    apiKeyHint: "wird als X-API-Key gesendet",
    save: "Speichern",
    language: "Sprache",
    revenueOverTime: "Umsatz, Bestellungen und Warenkorbwert im Zeitverlauf",
    grain: "Zeitraster",
    day: "Tag",
    week: "Woche",
    month: "Monat",
    from: "Von",
    to: "Bis",
    metric: "Kennzahl",
    loading: "Wird geladen …",
    empty: "Keine Daten für diesen Zeitraum.",
    error: "Die Daten konnten nicht geladen werden",
    download: "Herunterladen",
    partial: "unvollständig",
    partialNote:
      "Unvollständige Zeiträume (noch nicht vorbei oder vom Bereich abgeschnitten) sind markiert und hohl gezeichnet.",
    latest: "Letzter vollständiger Zeitraum",
    covers: "Umfasst",
    status: "Status",
    all: "Alle",
    planned: "geplant",
    running: "laufend",
    finished: "beendet",
    experiment: "Experiment",
    start: "Beginn",
    end: "Ende",
    primaryMetric: "Primäre Kennzahl",
    otherMetrics: "Weitere Kennzahlen",
    variants: "Varianten",
    asOf: "Status am",
    noExperiments: "Keine Experimente mit diesem Status.",
    yes: "ja",
    no: "nein",
    columns: {
      period: "Zeitraum",
      orders: "Bestellungen",
      items: "Artikel",
      revenue: "Umsatz",
      aov: "Ø Warenkorb",
      cancelled_orders: "Storniert",
      returned_orders: "Retourniert",
      customers: "Kunden",
      complete: "Vollständig",
    },
    metrics: { conversion: "Conversion", revenue_per_user: "Umsatz je Nutzer" },
    units: { count: "Anzahl" },
    pipelineRuns: "Letzte Pipeline-Läufe",
    noRuns: "Noch keine Pipeline-Läufe.",
    run: "Lauf",
    startedAt: "Gestartet",
    stages: { build: "Build", validation: "Validierung", training: "Training" },
  },
};

function initialLanguage() {
  const stored = localStorage.getItem(STORED);
  return stored in LANGUAGES ? stored : "en";
}

/** The chosen language (kept in localStorage), its labels and its locale. */
export function useLanguage() {
  const [language, setLanguage] = useState(initialLanguage);
  useEffect(() => {
    localStorage.setItem(STORED, language);
    document.documentElement.lang = language;
  }, [language]);
  const { locale, timeZone } = LANGUAGES[language];
  return { language, setLanguage, t: LABELS[language], locale, timeZone };
}
