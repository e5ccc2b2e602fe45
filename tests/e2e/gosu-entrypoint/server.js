// Answers 200 on $PORT (default 3000); writes to /data, which the entrypoint chowns.
const fs = require("fs");
const http = require("http");
fs.appendFileSync("/data/starts.log", `${new Date().toISOString()}\n`);
const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
