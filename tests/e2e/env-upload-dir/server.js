// Makes $UPLOAD_DIR if needed and writes into it, then answers 200 on $PORT (default 3000).
const fs = require("fs");
const http = require("http");
const dir = process.env.UPLOAD_DIR;
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(`${dir}/started.txt`, `${new Date().toISOString()}\n`);
const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
