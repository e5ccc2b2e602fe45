// Writes a file into /var/lib/app/uploads (made by RUN mkdir), then answers 200 on $PORT.
const fs = require("fs");
const http = require("http");
fs.writeFileSync("/var/lib/app/uploads/started.txt", `${new Date().toISOString()}\n`);
const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
