// Updates $DATA_DIR/state.json (copied from the build stage) and adds a log next to it, then
// answers 200 on $PORT (default 3000).
const fs = require("fs");
const http = require("http");
const dir = process.env.DATA_DIR;
const state = JSON.parse(fs.readFileSync(`${dir}/state.json`, "utf8"));
state.starts += 1;
fs.writeFileSync(`${dir}/state.json`, JSON.stringify(state));
fs.appendFileSync(`${dir}/starts.log`, `${new Date().toISOString()}\n`);
const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
