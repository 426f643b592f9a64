#include "daemon/net/http_exchange.h"

#include <vector>

#include <libwebsockets.h>

namespace ilchat::net {

namespace {

std::string header(lws* wsi, lws_token_indexes token) {
    int length = lws_hdr_total_length(wsi, token);
    if (length <= 0) return {};
    std::string value(static_cast<size_t>(length) + 1, '\0');
    int copied = lws_hdr_copy(wsi, value.data(), length + 1, token);
    value.resize(copied > 0 ? static_cast<size_t>(copied) : 0);
    return value;
}

HttpMethod method_of(lws* wsi) {
    char* uri = nullptr;
    int uri_len = 0;
    switch (lws_http_get_uri_and_method(wsi, &uri, &uri_len)) {
        case LWSHUMETH_GET: return HttpMethod::get;
        case LWSHUMETH_POST: return HttpMethod::post;
        case LWSHUMETH_OPTIONS: return HttpMethod::options;
        case LWSHUMETH_HEAD: return HttpMethod::head;
        case LWSHUMETH_PUT: return HttpMethod::put;
        case LWSHUMETH_PATCH: return HttpMethod::patch;
        case LWSHUMETH_DELETE: return HttpMethod::del;
        default: return HttpMethod::other;
    }
}

bool expects_body(lws* wsi) {
    std::string length = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    return !length.empty() && length != "0";
}

}  // namespace

int HttpExchange::begin(const char* path, const HttpRouter& router) {
    request_ = HttpRequest{};
    pending_body_.clear();
    body_refused_ = false;
    responding_ = false;
    completing_ = false;

    request_.method = method_of(wsi_);
    request_.path = path ? path : "";
    request_.query = header(wsi_, WSI_TOKEN_HTTP_URI_ARGS);
    request_.origin = header(wsi_, WSI_TOKEN_ORIGIN);
    request_.authorization = header(wsi_, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (expects_body(wsi_)) return 0;  // answered from body_complete()
    return respond(router.dispatch(request_));
}

int HttpExchange::body(const char* data, size_t len, const HttpRouter&) {
    if (body_refused_) return 0;
    if (request_.body.size() + len > max_body_bytes) {
        body_refused_ = true;
        request_.body.clear();
        return respond(HttpResponse::json_error(413, "Payload Too Large"));
    }
    request_.body.append(data, len);
    return 0;
}

int HttpExchange::body_complete(const HttpRouter& router) {
    if (body_refused_) return 0;
    return respond(router.dispatch(request_));
}

int HttpExchange::respond(const HttpResponse& response) {
    std::vector<unsigned char> buffer(LWS_PRE + 4096);
    unsigned char* start = buffer.data() + LWS_PRE;
    unsigned char* p = start;
    unsigned char* end = buffer.data() + buffer.size();

    if (lws_add_http_common_headers(wsi_, static_cast<unsigned>(response.status), response.content_type.c_str(),
                                    response.body.size(), &p, end))
        return 1;
    for (const auto& [name, value] : response.headers) {
        std::string key = name + ":";
        if (lws_add_http_header_by_name(wsi_, reinterpret_cast<const unsigned char*>(key.c_str()),
                                        reinterpret_cast<const unsigned char*>(value.data()),
                                        static_cast<int>(value.size()), &p, end))
            return 1;
    }
    if (lws_finalize_write_http_header(wsi_, start, &p, end)) return 1;

    responding_ = true;
    pending_body_ = request_.method == HttpMethod::head ? std::string{} : response.body;
    lws_callback_on_writable(wsi_);
    return 0;
}

int HttpExchange::writeable() {
    if (!responding_) return 0;
    if (!completing_) {
        completing_ = true;
        if (!pending_body_.empty()) {
            std::vector<unsigned char> frame(LWS_PRE + pending_body_.size());
            std::copy(pending_body_.begin(), pending_body_.end(), frame.begin() + LWS_PRE);
            if (lws_write(wsi_, frame.data() + LWS_PRE, pending_body_.size(), LWS_WRITE_HTTP_FINAL) < 0) return -1;
            pending_body_.clear();
            // libwebsockets keeps what the socket did not take; finish once it has gone out.
            if (lws_partial_buffered(wsi_)) {
                lws_callback_on_writable(wsi_);
                return 0;
            }
        }
    }
    responding_ = false;
    if (body_refused_) return -1;
    return lws_http_transaction_completed(wsi_) ? -1 : 0;
}

}  // namespace ilchat::net
