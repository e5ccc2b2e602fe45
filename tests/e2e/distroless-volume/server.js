// Appends to /app/data/starts.log (a VOLUME), then answers 200 on $PORT (default 8080).
const fs = require("fs");
const http = require("http");
fs.appendFileSync("/app/data/starts.log", `${new Date().toISOString()}\n`);
const port = Number(process.env.PORT || 8080);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
