// Answers 200 on the port given as `--port N` (default 3000).
const http = require("http");
const i = process.argv.indexOf("--port");
const port = Number(i >= 0 ? process.argv[i + 1] : 3000);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
