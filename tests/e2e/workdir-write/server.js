// Writes its pid file ($PID_FILE, relative to the working directory), then answers 200 on
// $PORT (default 3000).
const fs = require("fs");
const http = require("http");
fs.writeFileSync(process.env.PID_FILE || "server.pid", `${process.pid}\n`);
const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
