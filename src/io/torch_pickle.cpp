#include "io/torch_pickle.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <variant>

#include "util/error.h"

namespace lntune {

namespace {

struct Value;
// Values live in the reader's arena and point at each other raw: destruction is flat, so hostile
// nesting or memo cycles cannot recurse or leak.
using ValuePtr = Value*;
struct Storage { std::string key, type; int64_t numel = 0; };
struct Global { std::string name; };  // "module.qualname"
struct Mark {};
using List = std::vector<ValuePtr>;
using Dict = std::vector<std::pair<ValuePtr, ValuePtr>>;
struct Tuple { List items; };

struct Value {
  std::variant<std::monostate, bool, int64_t, double, std::string, Tuple, List, Dict, Global, Storage,
               PickledTensor, Mark>
      v;
};

class Reader {
 public:
  Reader(const unsigned char* d, size_t n, std::string src) : d_(d), n_(n), src_(std::move(src)) {}

  ValuePtr run() {
    while (true) {
      uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;                                  // PROTO
        case 0x95: bytes(8); break;                              // FRAME
        case '}': push(make(Dict{})); break;                     // EMPTY_DICT
        case ']': push(make(List{})); break;                     // EMPTY_LIST
        case ')': push(make(Tuple{})); break;                    // EMPTY_TUPLE
        case '(': push(make(Mark{})); break;                     // MARK
        case 'N': push(make(std::monostate{})); break;           // NONE
        case 0x88: push(make(true)); break;                      // NEWTRUE
        case 0x89: push(make(false)); break;                     // NEWFALSE
        case 'J': push(make(static_cast<int64_t>(static_cast<int32_t>(le(4))))); break;  // BININT
        case 'K': push(make(static_cast<int64_t>(u8()))); break;                          // BININT1
        case 'M': push(make(static_cast<int64_t>(le(2)))); break;                         // BININT2
        case 0x8a: {                                                                       // LONG1
          size_t k = u8();
          if (k > 8) err("integer wider than 64 bits");
          uint64_t x = le(k);
          if (k > 0 && k < 8 && (x >> (8 * k - 1)) & 1) x |= ~0ull << (8 * k);
          push(make(static_cast<int64_t>(x)));
          break;
        }
        case 'G': {                                                                        // BINFLOAT
          uint64_t x = 0;
          for (int i = 0; i < 8; ++i) x = (x << 8) | u8();
          double dv;
          std::memcpy(&dv, &x, 8);
          push(make(dv));
          break;
        }
        case 'X': { size_t k = le(4); push(make(bytes(k))); break; }                     // BINUNICODE
        case 0x8c: { size_t k = u8(); push(make(bytes(k))); break; }                     // SHORT_BINUNICODE
        case 'T': { size_t k = le(4); push(make(bytes(k))); break; }                     // BINSTRING
        case 'U': { size_t k = u8(); push(make(bytes(k))); break; }                      // SHORT_BINSTRING
        case 'c': {                                                                        // GLOBAL
          std::string mod = line(), name = line();
          push(make(Global{mod + "." + name}));
          break;
        }
        case 0x93: {                                                                       // STACK_GLOBAL
          auto name = pop(), mod = pop();
          push(make(Global{str(mod) + "." + str(name)}));
          break;
        }
        case 'q': memo_[u8()] = top(); break;                                             // BINPUT
        case 'r': memo_[le(4)] = top(); break;                                            // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;                                    // MEMOIZE
        case 'h': push(get(u8())); break;                                                 // BINGET
        case 'j': push(get(le(4))); break;                                                // LONG_BINGET
        case 't': push(make(Tuple{pop_mark()})); break;                                   // TUPLE
        case 0x85: { auto a = pop(); push(make(Tuple{{a}})); break; }                     // TUPLE1
        case 0x86: { auto b = pop(), a = pop(); push(make(Tuple{{a, b}})); break; }       // TUPLE2
        case 0x87: { auto c = pop(), b = pop(), a = pop(); push(make(Tuple{{a, b, c}})); break; }  // TUPLE3
        case 'l': push(make(List(pop_mark()))); break;                                    // LIST
        case 'a': { auto x = pop(); as<List>(top(), "APPEND").push_back(x); break; }      // APPEND
        case 'e': { auto xs = pop_mark(); auto& l = as<List>(top(), "APPENDS"); l.insert(l.end(), xs.begin(), xs.end()); break; }
        case 's': { auto v = pop(), k = pop(); as<Dict>(top(), "SETITEM").emplace_back(k, v); break; }
        case 'u': {                                                                        // SETITEMS
          auto xs = pop_mark();
          if (xs.size() % 2) err("SETITEMS with an odd number of items");
          auto& dct = as<Dict>(top(), "SETITEMS");
          for (size_t i = 0; i < xs.size(); i += 2) dct.emplace_back(xs[i], xs[i + 1]);
         
          break;
        }
        case 'Q': push(persistent(pop())); break;                                         // BINPERSID
        case 'R': { auto args = pop(), fn = pop(); push(reduce(fn, args)); break; }       // REDUCE
        case 0x81: { auto args = pop(), cls = pop(); push(reduce(cls, args)); break; }    // NEWOBJ
        case 'b': pop(); break;  // BUILD: object state (e.g. OrderedDict._metadata) is not needed
        case '.': return pop();  // STOP
        default: err("unsupported pickle opcode 0x" + hex(op));
      }
    }
  }

 private:
  [[noreturn]] void err(const std::string& m) const { fail(src_, "data.pkl@" + std::to_string(pos_), m); }
  static std::string hex(uint8_t b) {
    const char* h = "0123456789abcdef";
    return {h[b >> 4], h[b & 15]};
  }
  uint8_t u8() {
    if (pos_ >= n_) err("unexpected end of pickle");
    return d_[pos_++];
  }
  uint64_t le(size_t k) {
    uint64_t x = 0;
    for (size_t i = 0; i < k; ++i) x |= static_cast<uint64_t>(u8()) << (8 * i);
    return x;
  }
  std::string bytes(size_t k) {
    if (k > n_ - pos_) err("string runs past the end of the pickle");
    std::string s(reinterpret_cast<const char*>(d_ + pos_), k);
    pos_ += k;
    return s;
  }
  std::string line() {
    std::string s;
    for (char c; (c = static_cast<char>(u8())) != '\n';) s.push_back(c);
    return s;
  }
  ValuePtr make(decltype(Value::v) v) {
    arena_.push_back(std::make_unique<Value>(Value{std::move(v)}));
    return arena_.back().get();
  }
  void push(ValuePtr v) {
    if (stack_.size() > 1000000) err("stack too deep");
    stack_.push_back(v);
  }
  ValuePtr pop() {
    if (stack_.empty()) err("stack underflow");
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  ValuePtr& top() {
    if (stack_.empty()) err("stack underflow");
    return stack_.back();
  }
  ValuePtr get(uint64_t k) {
    auto it = memo_.find(k);
    if (it == memo_.end()) err("memo key " + std::to_string(k) + " not set");
    return it->second;
  }
  List pop_mark() {
    List xs;
    while (true) {
      auto v = pop();
      if (std::holds_alternative<Mark>(v->v)) break;
      xs.insert(xs.begin(), v);
    }
    return xs;
  }
  template <typename T>
  T& as(ValuePtr& v, const char* what) {
    if (!std::holds_alternative<T>(v->v)) err(std::string(what) + " on a value of the wrong type");
    return std::get<T>(v->v);
  }
  std::string str(const ValuePtr& v) {
    if (!std::holds_alternative<std::string>(v->v)) err("expected a string");
    return std::get<std::string>(v->v);
  }
  int64_t num(const ValuePtr& v) {
    if (!std::holds_alternative<int64_t>(v->v)) err("expected an integer");
    return std::get<int64_t>(v->v);
  }
  std::vector<int64_t> ints(const ValuePtr& v) {
    if (!std::holds_alternative<Tuple>(v->v)) err("expected a tuple of integers");
    std::vector<int64_t> out;
    for (const auto& x : std::get<Tuple>(v->v).items) out.push_back(num(x));
    return out;
  }
  ValuePtr persistent(const ValuePtr& pid) {
    // ('storage', torch.<Type>Storage, key, location, numel)
    if (!std::holds_alternative<Tuple>(pid->v)) err("persistent id is not a tuple");
    const auto& t = std::get<Tuple>(pid->v).items;
    if (t.size() < 5 || str(t[0]) != "storage" || !std::holds_alternative<Global>(t[1]->v))
      err("unsupported persistent id (expected a torch storage)");
    std::string type = std::get<Global>(t[1]->v).name;
    if (type.rfind("torch.", 0) == 0) type = type.substr(6);
    return make(Storage{str(t[2]), type, num(t[4])});
  }
  ValuePtr reduce(const ValuePtr& fn, const ValuePtr& args) {
    if (!std::holds_alternative<Global>(fn->v)) err("REDUCE of a non-global callable");
    if (!std::holds_alternative<Tuple>(args->v)) err("REDUCE arguments are not a tuple");
    const std::string& f = std::get<Global>(fn->v).name;
    const auto& a = std::get<Tuple>(args->v).items;
    if (f == "collections.OrderedDict") return make(Dict{});
    if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor") {
      if (a.size() < 4 || !std::holds_alternative<Storage>(a[0]->v)) err(f + " with unexpected arguments");
      const auto& s = std::get<Storage>(a[0]->v);
      PickledTensor t;
      t.storage_key = s.key;
      t.storage_type = s.type;
      t.storage_numel = s.numel;
      t.offset = num(a[1]);
      t.shape = ints(a[2]);
      t.stride = ints(a[3]);
      return make(t);
    }
    if (f == "torch._utils._rebuild_parameter") {
      if (a.empty() || !std::holds_alternative<PickledTensor>(a[0]->v)) err(f + " with unexpected arguments");
      return a[0];
    }
    err("unsupported pickle global '" + f + "' (only state dicts of dense tensors are read)");
  }

  const unsigned char* d_;
  size_t n_;
  size_t pos_ = 0;
  std::string src_;
  std::vector<std::unique_ptr<Value>> arena_;
  std::vector<ValuePtr> stack_;
  std::map<uint64_t, ValuePtr> memo_;
};

void collect(const Dict& d, const std::string& prefix, std::vector<PickledTensor>& out) {
  for (const auto& [k, v] : d) {
    if (!std::holds_alternative<std::string>(k->v)) continue;
    std::string name = prefix + std::get<std::string>(k->v);
    if (std::holds_alternative<PickledTensor>(v->v)) {
      PickledTensor t = std::get<PickledTensor>(v->v);
      t.name = name;
      out.push_back(std::move(t));
    }
  }
}

}  // namespace

std::vector<PickledTensor> parse_state_dict_pickle(const unsigned char* data, size_t size, const std::string& source) {
  Reader r(data, size, source);
  ValuePtr root = r.run();
  if (!std::holds_alternative<Dict>(root->v)) fail(source, "data.pkl", "top-level object is not a dict of tensors");
  std::vector<PickledTensor> out;
  collect(std::get<Dict>(root->v), "", out);
  // Training checkpoints often nest the weights: {"state_dict": {...}} or {"model": {...}}.
  if (out.empty())
    for (const auto& [k, v] : std::get<Dict>(root->v))
      if (std::holds_alternative<std::string>(k->v) && std::holds_alternative<Dict>(v->v) &&
          (std::get<std::string>(k->v) == "state_dict" || std::get<std::string>(k->v) == "model"))
        collect(std::get<Dict>(v->v), "", out);
  if (out.empty()) fail(source, "data.pkl", "holds no tensors");
  return out;
}

}  // namespace lntune
