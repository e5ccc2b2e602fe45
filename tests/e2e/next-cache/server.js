// Writes an optimised image into .next/cache/images, as `next start` does, then answers 200 on
// $PORT (default 3000).
const fs = require("fs");
const http = require("http");
fs.mkdirSync(".next/cache/images", { recursive: true });
fs.writeFileSync(".next/cache/images/logo.webp", "image\n");
const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
