// mcp_client.mjs — the official MCP TypeScript SDK's client, driving one
// scenario against a server and printing one JSON object with what it saw.
//
//   node mcp_client.mjs --url http://127.0.0.1:PORT/mcp SCENARIO [--clients N]
//   node mcp_client.mjs --stdio -- COMMAND [ARGS...] SCENARIO...
//
// Scenarios (each asserts what a user of the server would notice and exits
// non-zero with the reason on stderr when something is wrong):
//   basic      initialize, tools/list, tools/call echo and get-sum, the
//              long-running tool with progress notifications, resources/list
//              and resources/read
//   many       N concurrent clients, each: initialize, echo, get-sum
//   large      (probe server) a 10 MB tool result, checked against its SHA-256
//   long       (probe server) one call of --seconds S with progress each second;
//              --id names it, so the server's log shows it ran once
//   cancel     (probe server) a call to the `wait` tool, aborted after
//              a second; then `cancelled` asks the server whether it saw it
//
// The SDK is what nobody here wrote; this file only calls it.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { createHash } from "node:crypto";

function die(msg) {
	process.stderr.write(`mcp_client: ${msg}\n`);
	process.exit(1);
}

function parseArgs(argv) {
	const o = { clients: 50, seconds: 6, scenarios: [] };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === "--url") o.url = argv[++i];
		else if (a === "--clients") o.clients = Number(argv[++i]);
		else if (a === "--seconds") o.seconds = Number(argv[++i]);
		else if (a === "--size") o.size = Number(argv[++i]);
		else if (a === "--id") o.id = argv[++i];
		else if (a === "--verbose") o.verbose = true;
		else if (a === "--stdio") {
			const end = argv.indexOf("--", i + 1) === i + 1 ? i + 2 : -1;
			if (end < 0) die("--stdio needs '-- COMMAND [ARGS...] ;;' after it");
			const stop = argv.indexOf(";;", end);
			if (stop < 0) die("--stdio command must end with ';;'");
			o.stdio = argv.slice(end, stop);
			i = stop;
		} else if (a.startsWith("--")) die(`unknown option ${a}`);
		else o.scenarios.push(a);
	}
	if (!o.url === !o.stdio) die("give exactly one of --url URL or --stdio -- CMD ... ;;");
	if (!o.scenarios.length) die("name a scenario: basic many large long cancel");
	if (!(o.clients >= 1 && o.clients <= 500)) die("--clients must be 1..500");
	return o;
}

async function connect(o, name) {
	const client = new Client({ name, version: "1.0.0" });
	const transport = o.url
		? new StreamableHTTPClientTransport(new URL(o.url))
		: new StdioClientTransport({ command: o.stdio[0], args: o.stdio.slice(1),
					     stderr: "inherit" });
	await client.connect(transport);
	return client;
}

// --verbose: each call and what came back, for people watching (stderr).
let verbose = false;
function show(dir, what) {
	if (verbose)
		process.stderr.write(`  ${dir} ${what.length > 110 ? what.slice(0, 107) + "..." : what}\n`);
}

function text(result) {
	const t = result.content?.find((c) => c.type === "text");
	return t ? t.text : "";
}

function expect(cond, what) {
	if (!cond) die(what);
}

async function basic(o, out) {
	const c = await connect(o, "postern-interop-basic");
	const info = c.getServerVersion();
	show("<-", `initialize: server ${info?.name} ${info?.version}`);
	show("->", "tools/list");
	const tools = (await c.listTools()).tools.map((t) => t.name);
	show("<-", `${tools.length} tools: ${tools.join(", ")}`);
	for (const t of ["echo", "get-sum", "trigger-long-running-operation"])
		expect(tools.includes(t), `tools/list lacks ${t}: ${tools.join(",")}`);
	show("->", 'tools/call echo {"message": "through the tunnel"}');
	const echo = text(await c.callTool({ name: "echo", arguments: { message: "through the tunnel" } }));
	show("<-", echo);
	expect(echo.includes("through the tunnel"), `echo answered '${echo}'`);
	show("->", 'tools/call get-sum {"a": 19, "b": 23}');
	const sum = text(await c.callTool({ name: "get-sum", arguments: { a: 19, b: 23 } }));
	show("<-", sum);
	expect(/\b42\b/.test(sum), `get-sum 19+23 answered '${sum}'`);
	show("->", 'tools/call trigger-long-running-operation {"duration": 2, "steps": 4}');
	let progress = 0;
	const long = text(await c.callTool(
		{ name: "trigger-long-running-operation", arguments: { duration: 2, steps: 4 } },
		undefined, { onprogress: (p) => { progress++; show("<-", `progress ${p.progress}/${p.total}`); },
			     timeout: 60000 }));
	show("<-", long);
	expect(long.includes("completed"), `long-running answered '${long}'`);
	// Over stdio the SDK may settle the call before handling the last
	// notification, which was sent just before the result: allow one to be late.
	expect(progress >= 3, `long-running sent ${progress} progress notifications, want 4`);
	show("->", "resources/list");
	const res = (await c.listResources()).resources;
	show("<-", `${res.length} resources: ${res.map((r) => r.uri).join(", ")}`);
	expect(res.length > 0, "resources/list is empty");
	show("->", `resources/read ${res[0].uri}`);
	const read = await c.readResource({ uri: res[0].uri });
	show("<-", JSON.stringify(read.contents[0]?.text ?? read.contents[0]?.blob ?? ""));
	expect(read.contents.length > 0, `resources/read ${res[0].uri} returned nothing`);
	out.basic = { server: info?.name, tools: tools.length, echo, sum, progress,
		      resources: res.length, read_uri: res[0].uri };
	await c.close();
}

async function many(o, out) {
	const t0 = Date.now();
	const lat = [];
	await Promise.all(Array.from({ length: o.clients }, async (_, i) => {
		const c = await connect(o, `postern-interop-${i}`);
		const s = Date.now();
		const msg = `client ${i}`;
		const echo = text(await c.callTool({ name: "echo", arguments: { message: msg } }));
		expect(echo.includes(msg), `client ${i}: echo answered '${echo}'`);
		const sum = text(await c.callTool({ name: "get-sum", arguments: { a: i, b: 1000 } }));
		expect(sum.includes(String(i + 1000)), `client ${i}: get-sum answered '${sum}'`);
		lat.push(Date.now() - s);
		await c.close();
	}));
	lat.sort((a, b) => a - b);
	out.many = { clients: o.clients, ok: lat.length, p50_ms: lat[lat.length >> 1],
		     max_ms: lat[lat.length - 1], wall_ms: Date.now() - t0 };
}

async function large(o, out) {
	const size = o.size || 10000000;	// 10 MB; the SDK's stdio reader stops at 10 MiB a message
	const c = await connect(o, "postern-interop-large");
	const s = Date.now();
	const r = await c.callTool({ name: "blob", arguments: { bytes: size } }, undefined,
				   { timeout: 120000 });
	const [body, sum] = r.content.map((x) => x.text);
	expect(body?.length === size, `blob of ${size} came back with ${body?.length} bytes`);
	const got = createHash("sha256").update(body).digest("hex");
	expect(got === sum, `blob of ${size}: SHA-256 ${got}, server said ${sum}`);
	out.large = { bytes: size, sha256: got, ms: Date.now() - s };
	await c.close();
}

async function long(o, out) {
	const c = await connect(o, "postern-interop-long");
	const id = o.id || `long-${process.pid}`;
	let progress = 0;
	const s = Date.now();
	const r = text(await c.callTool({ name: "slow", arguments: { id, seconds: o.seconds } },
		undefined, { onprogress: () => progress++, timeout: 120000, resetTimeoutOnProgress: true }));
	expect(r === `slow ${id} done after ${o.seconds} s`, `long call answered '${r}'`);
	expect(progress >= o.seconds - 1, `long call: ${progress} progress notifications of ${o.seconds}`);
	out.long = { id, seconds: o.seconds, progress, ms: Date.now() - s };
	await c.close();
}

async function cancel(o, out) {
	const c = await connect(o, "postern-interop-cancel");
	const ac = new AbortController();
	const id = `probe-${process.pid}-${Date.now()}`;
	setTimeout(() => ac.abort("the user gave up"), 1000);
	let aborted = false;
	try {
		await c.callTool({ name: "wait", arguments: { id, seconds: 30 } }, undefined,
				 { signal: ac.signal, timeout: 60000 });
	} catch (e) {
		aborted = true;
	}
	expect(aborted, "the aborted call returned a result");
	let seen = false;
	for (let i = 0; i < 50 && !seen; i++) {
		const r = text(await c.callTool({ name: "cancelled", arguments: { id } }));
		seen = r === "yes";
		if (!seen) await new Promise((r) => setTimeout(r, 100));
	}
	expect(seen, "the server never saw the cancellation");
	out.cancel = { aborted, server_saw_cancel: seen };
	await c.close();
}

const scenarios = { basic, many, large, long, cancel };
const o = parseArgs(process.argv.slice(2));
verbose = !!o.verbose;
const out = {};
for (const s of o.scenarios) {
	if (!scenarios[s]) die(`unknown scenario '${s}'`);
	await scenarios[s](o, out);
}
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
