#include "daemon/net/http_exchange.h"

#include <cctype>
#include <sys/socket.h>
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

// libwebsockets keeps each "name=value" of the query as a fragment (already URL-decoded).
std::string query_of(lws* wsi) {
    std::string query;
    const int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    if (total <= 0) return query;
    std::string fragment(static_cast<size_t>(total) + 1, '\0');
    for (int i = 0;; ++i) {
        int n = lws_hdr_copy_fragment(wsi, fragment.data(), total + 1, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) break;
        if (i) query += '&';
        query.append(fragment.data(), static_cast<size_t>(n));
    }
    return query;
}

// The announced body length (0 when none).
std::size_t content_length(lws* wsi) {
    std::string length = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    std::size_t n = 0;
    for (char c : length) {
        if (c < '0' || c > '9') break;
        n = n * 10 + static_cast<std::size_t>(c - '0');
        if (n > (std::size_t{1} << 40)) break;
    }
    return n;
}

bool chunked_transfer(lws* wsi) {
    std::string coding = header(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING);
    for (auto& c : coding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return coding.find("chunked") != std::string::npos;
}

}  // namespace

HttpRequest read_request_head(lws* wsi, std::string path) {
    HttpRequest request;
    request.method = method_of(wsi);
    request.path = std::move(path);
    request.query = query_of(wsi);
    request.origin = header(wsi, WSI_TOKEN_ORIGIN);
    request.authorization = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    request.content_type = header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
    request.cors_request_headers = header(wsi, WSI_TOKEN_HTTP_AC_REQUEST_HEADERS);
    std::string connection = header(wsi, WSI_TOKEN_CONNECTION);
    for (auto& c : connection) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.wants_close = connection.find("close") != std::string::npos;
    return request;
}

HttpRequest read_upgrade_request(lws* wsi) { return read_request_head(wsi, header(wsi, WSI_TOKEN_GET_URI)); }

HttpExchange::~HttpExchange() {
    if (abandon_) abandon_();
}

int HttpExchange::begin(const char* path, const HttpRouter& router) {
    if (abandon_) abandon_();  // a pipelined request while one was kept: the old one is gone
    abandon_ = nullptr;
    pending_body_.clear();
    close_after_ = false;
    responding_ = false;
    completing_ = false;
    dispatched_ = false;
    chunked_.reset();
    request_ = read_request_head(wsi_, path ? path : "");
    // HTTP/1.1 clients and proxies that stream a body (nginx without request buffering, Node's
    // http client) send it chunked instead of announcing its length. libwebsockets reads a body
    // only for POST; after another request's chunked body the connection must close, or its
    // bytes would be read as the next request.
    if (chunked_transfer(wsi_)) {
        if (request_.method == HttpMethod::post) chunked_.emplace();
        else close_after_ = true;
    }
    const std::size_t length = content_length(wsi_);
    if (length == 0 && !chunked_) return dispatch(router);
    body_limit_ = router.body_limit(request_.path);
    if (length > body_limit_) return refuse_body(router);
    if (auto refusal = router.body_start(request_, *this)) {
        close_after_ = true;
        dispatched_ = true;
        return write_head(*refusal);
    }
    return 0;  // dispatched from body_complete()
}

int HttpExchange::refuse_body(const HttpRouter& router) {
    // Answered before the rest arrives; the connection closes after the answer.
    request_.body.clear();
    request_.body_too_large = true;
    close_after_ = true;
    return dispatch(router);
}

int HttpExchange::body(const char* data, size_t len, const HttpRouter& router) {
    if (dispatched_) return 0;
    if (!chunked_) {
        if (request_.body.size() + len > body_limit_) return refuse_body(router);
        request_.body.append(data, len);
        return 0;
    }
    const auto status = chunked_->feed(std::string_view(data, len), request_.body);
    if (request_.body.size() > body_limit_) return refuse_body(router);
    switch (status) {
        case ChunkedBody::Status::more:
            return 0;
        case ChunkedBody::Status::invalid:
            close_after_ = true;
            dispatched_ = true;
            return write_head(HttpResponse::json_error(400, "Malformed chunked request body"));
        case ChunkedBody::Status::complete:
            // libwebsockets 4.1 takes a body without a length to run until the connection ends,
            // so it would read whatever follows on this connection as more body. Closing after
            // the answer (and saying so) makes the client send its next request, or resend a
            // pipelined one, on a new connection.
            close_after_ = true;
            return dispatch(router);
    }
    return 0;
}

int HttpExchange::body_complete(const HttpRouter& router) {
    if (dispatched_) return 0;
    return dispatch(router);
}

int HttpExchange::dispatch(const HttpRouter& router) {
    dispatched_ = true;
    abandon_ = nullptr;  // whoever watched the body arrive is done with it
    auto response = router.dispatch(request_, *this);
    if (!response) {
        // Kept for later (a long-poll): no idle timeout while the handler holds it.
        lws_set_timeout(wsi_, NO_PENDING_TIMEOUT, 0);
        return 0;
    }
    return write_head(*response);
}

bool HttpExchange::peer_still_there() {
    // libwebsockets does not read a connection whose transaction is open, so a client that hung
    // up on a kept request shows only as end-of-file waiting in the socket.
    char byte;
    const ssize_t n = ::recv(lws_get_socket_fd(wsi_), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n != 0) return true;  // data, or nothing yet (EAGAIN): still connected
    abandon_ = nullptr;
    lws_set_timeout(wsi_, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    return false;
}

void HttpExchange::respond(const HttpResponse& response, bool close) {
    abandon_ = nullptr;
    close_after_ = close_after_ || close;
    if (write_head(response) != 0) lws_set_timeout(wsi_, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

int HttpExchange::write_head(const HttpResponse& response) {
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
    // Said explicitly: a keep-alive client pool must not reuse a connection we are closing.
    if (request_.wants_close) close_after_ = true;
    if (close_after_) {
        static constexpr char close[] = "close";
        if (lws_add_http_header_by_token(wsi_, WSI_TOKEN_CONNECTION, reinterpret_cast<const unsigned char*>(close),
                                         sizeof close - 1, &p, end))
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
    if (close_after_) return -1;
    return lws_http_transaction_completed(wsi_) ? -1 : 0;
}

}  // namespace ilchat::net
