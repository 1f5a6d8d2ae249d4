// The real TanStack DB client: build a transaction, POST it to /mutations, read its commit over SSE.
// usage: node client.mjs <base url> <bearer token>; prints {"txid", "txid32", "message"} as JSON.
import { createCollection, createTransaction } from "@tanstack/db";

const [base, token] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${token}` };

// what an Electric collection puts on each mutation: the server table it came from
const relation = ["public", "todos"];
const todos = createCollection({
  id: "todos",
  getKey: (todo) => todo.id,
  startSync: true,
  sync: {
    // the rows the server starts with (make_todos), as a sync would have loaded them
    sync: ({ begin, write, commit, markReady }) => {
      begin();
      for (const [id, title] of [[1, "First todo"], [2, "Second todo"]]) {
        const value = { id, title, completed: false };
        write({ type: "insert", value, metadata: { relation } }); // updates carry this metadata
      }
      commit();
      markReady();
    },
    getSyncMetadata: () => ({ relation }), // inserts carry this metadata
  },
});

async function* sseMessages(response) {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message = {};
      for (const line of block.split("\n")) {
        if (line.startsWith("id:")) message.id = line.slice(3).trim();
        if (line.startsWith("data:")) message.data = JSON.parse(line.slice(5).trim());
      }
      if (message.data) yield message;
    }
  }
}

const stream = new AbortController();
const events = await fetch(`${base}/events?table=todos`, { headers, signal: stream.signal });
if (events.status !== 200) throw new Error(`GET /events: ${events.status}`);

await todos.stateWhenReady();
let answer;
const tx = createTransaction({
  autoCommit: false,
  mutationFn: async ({ transaction }) => {
    const response = await fetch(`${base}/mutations`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      // each mutation references its (circular) collection object: send everything else
      body: JSON.stringify({
        transaction: transaction.mutations.map(({ collection, ...mutation }) => mutation),
      }),
    });
    answer = await response.json();
    if (response.status !== 200) throw new Error(`POST /mutations: ${JSON.stringify(answer)}`);
  },
});
tx.mutate(() => {
  todos.insert({ id: 3, title: "from TanStack DB", completed: false });
  todos.update(1, (draft) => {
    draft.completed = true;
  });
});
await tx.commit();

for await (const message of sseMessages(events)) {
  if (message.data.txid === answer.txid) {
    console.log(JSON.stringify({ ...answer, message }));
    break;
  }
}
stream.abort();
