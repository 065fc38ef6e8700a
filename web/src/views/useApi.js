// A GET of the API (or a POST of ``body``, for read-only analyses) that reloads when its parameters
// change and ignores answers overtaken by newer ones.
import { useEffect, useState } from "preact/hooks";
import { getJson, postJson } from "../api.js";

export function useApi(path, params, body) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const key = JSON.stringify([params, body]);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true, error: null }));
    (body === undefined ? getJson(path, params) : postJson(path, body))
      .then((data) => current && setState({ loading: false, data, error: null }))
      .catch((error) => current && setState({ loading: false, data: null, error: error.message, status: error.status }));
    return () => {
      current = false;
    };
  }, [path, key]);
  return state;
}
