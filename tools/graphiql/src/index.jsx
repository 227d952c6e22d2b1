// GraphiQL for govgraph, bundled by build.sh. The page that loads this file (api/src/http/graphiql.rs) holds
// <div id="graphiql" data-endpoint="/graphql">; nothing is fetched from any other host.
import { useCallback, useRef } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { useSchemaStore } from '@graphiql/react';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './page.css';

const DEFAULT_QUERY = `# govgraph: every answer is scoped by your token.
# Paste {"Authorization": "Bearer <token>"}
# into Headers below (\`govgraph serve --demo\` prints
# one; \`govgraph token\` mints others). The schema, the
# docs and the explorer on the left load once it is set.

{
  viewer { subject roles regionCode }
  regions(first: 3) { totalCount nodes { code name } }
}
`;

const explorer = explorerPlugin();

// A query handed over in the URL's fragment, `/graphql#query=<URL-encoded text>` (the statistics page links so):
// the fragment never reaches the server, so the page is still GraphiQL's and the query is not run until asked.
function linkedQuery() {
  const text = new URLSearchParams(window.location.hash.slice(1)).get('query');
  return text === null || text.trim() === '' ? undefined : text;
}

// Posts to the same-origin endpoint; the headers editor's headers come in `options.headers`.
function fetcherFor(endpoint) {
  return async (params, options) => {
    const response = await fetch(endpoint, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...options?.headers },
      body: JSON.stringify(params),
    });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
    }
  };
}

function App({ endpoint }) {
  const fetcher = useRef(fetcherFor(endpoint)).current;
  const linked = useRef(linkedQuery()).current;
  // Introspection needs a token: fetch the schema again once the edited headers are valid JSON.
  const introspect = useSchemaStore((state) => state.introspect);
  const pending = useRef(undefined);
  const introspected = useRef('');
  const onEditHeaders = useCallback(
    (text) => {
      clearTimeout(pending.current);
      pending.current = setTimeout(() => {
        const headers = text.trim();
        if (headers === introspected.current) return;
        try {
          JSON.parse(headers || '{}');
        } catch {
          return;
        }
        introspected.current = headers;
        introspect();
      }, 400);
    },
    [introspect],
  );
  return (
    <GraphiQL
      fetcher={fetcher}
      plugins={[explorer]}
      defaultQuery={DEFAULT_QUERY}
      query={linked}
      defaultEditorToolsVisibility="headers"
      isHeadersEditorEnabled
      onEditHeaders={onEditHeaders}
    />
  );
}

const container = document.getElementById('graphiql');
createRoot(container).render(<App endpoint={container.dataset.endpoint || '/graphql'} />);
