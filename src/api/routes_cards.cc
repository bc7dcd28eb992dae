// Card routes: POST /api/characters/import (a card file as the body, or multipart) and
// GET /api/characters/{id}/export?format=png|json|charx.
#include "api/codec.h"
#include "api/route_util.h"
#include "api/routes.h"
#include "core/text.h"

namespace tokki::api {

namespace {

// The first file part of a multipart/form-data body (RFC 7578), with its filename.
Result<std::pair<std::string, std::string>> FirstMultipartFile(std::string_view content_type,
                                                               std::string_view body) {
  auto bpos = content_type.find("boundary=");
  if (bpos == std::string_view::npos) return Status::InvalidArgument("multipart body without a boundary");
  std::string boundary(content_type.substr(bpos + 9));
  if (auto semi = boundary.find(';'); semi != std::string::npos) boundary.resize(semi);
  if (boundary.size() >= 2 && boundary.front() == '"') boundary = boundary.substr(1, boundary.size() - 2);
  const std::string delim = "--" + boundary;
  size_t pos = body.find(delim);
  while (pos != std::string_view::npos) {
    size_t header_start = pos + delim.size();
    if (body.substr(header_start, 2) == "--") break;  // closing delimiter
    header_start += 2;                                 // CRLF
    size_t header_end = body.find("\r\n\r\n", header_start);
    if (header_end == std::string_view::npos) break;
    std::string_view headers = body.substr(header_start, header_end - header_start);
    size_t data_start = header_end + 4;
    size_t next = body.find("\r\n" + delim, data_start);
    if (next == std::string_view::npos) break;
    auto fn = headers.find("filename=\"");
    if (fn != std::string_view::npos) {
      auto fn_end = headers.find('"', fn + 10);
      std::string filename(headers.substr(fn + 10, fn_end == std::string_view::npos ? 0 : fn_end - fn - 10));
      return std::make_pair(filename, std::string(body.substr(data_start, next - data_start)));
    }
    pos = next + 2;
  }
  return Status::InvalidArgument("the multipart body has no file part");
}

std::string SafeFilename(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '-' || c == '_') out += static_cast<char>(c);
    else if (c == ' ' || c == '.') out += '_';
  }
  if (out.empty()) out = "character";
  return out.substr(0, 64);
}

}  // namespace

void AddCardRoutes(std::vector<Route>& r, const Services& s) {
  using V = http::verb;
  chat::CharacterService* characters = s.characters;

  r.push_back({.method = V::post, .pattern = "/api/characters/import", .body = BodyKind::kUpload,
               .handler = [characters](RequestContext& ctx) -> HandlerResult {
                 std::string bytes = ctx.req.body();
                 std::string filename(ctx.req["X-Filename"]);
                 std::string_view ctype(ctx.req[http::field::content_type].data(),
                                        ctx.req[http::field::content_type].size());
                 if (ctype.rfind("multipart/form-data", 0) == 0) {
                   auto part = FirstMultipartFile(ctype, bytes);
                   if (!part.ok()) return ErrorResponse(ctx, part.status());
                   filename = part->first;
                   bytes = std::move(part->second);
                 }
                 auto imported = characters->Import(ctx.user_id, bytes, filename);
                 if (!imported.ok()) return ErrorResponse(ctx, imported.status());
                 Json out = CharacterJson(imported->character, ctx.user_id);
                 out["import"] = Json{{"format", imported->format}, {"warnings", imported->warnings}};
                 return JsonResponse(ctx, http::status::created, out);
               }});

  r.push_back({.method = V::get, .pattern = "/api/characters/{id}/export", .access = Access::kPublic,
               .handler = [characters](RequestContext& ctx) -> HandlerResult {
                 auto id = IdParam(ctx, "id");
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto file = characters->Export(ctx.user_id, ctx.role, *id, ctx.Query("format", "png"));
                 if (!file.ok()) return ErrorResponse(ctx, file.status());
                 auto c = characters->Get(ctx.user_id, ctx.role, *id);
                 std::string name = c.ok() ? c->name : "character";
                 Response res = BinaryResponse(ctx, file->mime, std::move(file->bytes), "no-store");
                 res.set(http::field::content_disposition,
                         "attachment; filename=\"" + SafeFilename(name) + "." + file->extension + "\"");
                 return res;
               }});
}

}  // namespace tokki::api
