// Counts starts in $DATA_DIR/starts, then answers 200 on $PORT (default 8080).
const fs = require("fs");
const http = require("http");
const file = `${process.env.DATA_DIR}/starts`;
fs.writeFileSync(file, `${Number(fs.readFileSync(file, "utf8")) + 1}\n`);
fs.writeFileSync(`${process.env.DATA_DIR}/last`, `${new Date().toISOString()}\n`);
const port = Number(process.env.PORT || 8080);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
