// Answers 200 on $PORT (default 3000); start.sh has written /var/lib/app-state/started.
const fs = require("fs");
const http = require("http");
fs.readFileSync("/var/lib/app-state/started");
const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
