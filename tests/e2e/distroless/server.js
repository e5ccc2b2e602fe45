// Answers 200 on $PORT (default 8080).
const http = require("http");
const port = Number(process.env.PORT || 8080);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
