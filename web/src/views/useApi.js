// A GET of the API that reloads when its parameters change and ignores answers overtaken by newer ones.
import { useEffect, useState } from "preact/hooks";
import { getJson } from "../api.js";

export function useApi(path, params) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const key = JSON.stringify(params);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true, error: null }));
    getJson(path, params)
      .then((data) => current && setState({ loading: false, data, error: null }))
      .catch((error) => current && setState({ loading: false, data: null, error: error.message }));
    return () => {
      current = false;
    };
  }, [path, key]);
  return state;
}
