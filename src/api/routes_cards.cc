// Card routes: POST /api/characters/import (a card file as the body, or multipart) and
// GET /api/characters/{id}/export?format=png|json|charx.
#include "api/codec.h"
#include "api/routes_internal.h"
#include "core/text.h"
#include "persona/card.h"

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

void AddCardRoutes(std::vector<Route>& r, const Services& s, std::shared_ptr<ResponseCache> list_cache) {
  using V = http::verb;
  store::Store* store = s.store;
  auto deck_upsert = s.deck_upsert;

  r.push_back({V::post, "/api/characters/import", true, false, true,
               [store, list_cache, deck_upsert](RequestContext& ctx) -> HandlerResult {
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
                 if (bytes.empty()) return ErrorResponse(ctx, Status::InvalidArgument("the card file is empty"));
                 auto card = persona::ImportCard(bytes, filename);
                 if (!card.ok()) return ErrorResponse(ctx, card.status());
                 store::Character c = std::move(card->character);
                 c.id = kNoId;
                 c.owner_id = ctx.user_id;
                 c.slug.clear();
                 c.visibility = store::Visibility::kPrivate;
                 c.has_avatar = false;
                 auto made = store->CreateCharacter(c);
                 if (!made.ok()) return ErrorResponse(ctx, made.status());
                 if (card->avatar) {
                   Status st = store->SetAvatar(made->id, *card->avatar);
                   if (st.ok()) made = store->GetCharacter(made->id);
                 }
                 list_cache->Invalidate();
                 if (deck_upsert) deck_upsert(*made);
                 Json out = CharacterJson(*made, ctx.user_id);
                 out["import"] = Json{{"format", card->format}, {"warnings", card->warnings}};
                 return JsonResponse(ctx, http::status::created, out);
               }});

  r.push_back({V::get, "/api/characters/{id}/export", false, false, false, [store](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto c = store->GetCharacter(*id);
                 if (!c.ok() || (c->visibility == store::Visibility::kPrivate &&
                                 (ctx.user_id == kNoId || c->owner_id != ctx.user_id)))
                   return ErrorResponse(ctx, Status::NotFound("character not found"));
                 std::string fmt = ctx.Query("format", "png");
                 persona::CardFormat format;
                 std::string mime, ext;
                 if (fmt == "png") { format = persona::CardFormat::kPng; mime = "image/png"; ext = "png"; }
                 else if (fmt == "json") { format = persona::CardFormat::kJson; mime = "application/json"; ext = "json"; }
                 else if (fmt == "charx") { format = persona::CardFormat::kCharx; mime = "application/zip"; ext = "charx"; }
                 else return ErrorResponse(ctx, Status::InvalidArgument("format must be png, json or charx"));
                 std::optional<store::Avatar> avatar;
                 if (c->has_avatar) {
                   auto a = store->GetAvatar(c->id);
                   if (a.ok()) avatar = std::move(*a);
                 }
                 auto file = persona::ExportCard(*c, avatar ? &*avatar : nullptr, format);
                 if (!file.ok()) return ErrorResponse(ctx, file.status());
                 Response res{http::status::ok, ctx.req.version()};
                 res.keep_alive(ctx.req.keep_alive());
                 res.set(http::field::server, "tokki");
                 res.set(http::field::content_type, mime);
                 res.set(http::field::content_disposition,
                         "attachment; filename=\"" + SafeFilename(c->name) + "." + ext + "\"");
                 res.body() = std::move(*file);
                 res.prepare_payload();
                 return res;
               }});
}

}  // namespace tokki::api
