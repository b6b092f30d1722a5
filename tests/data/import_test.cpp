// End-to-end tests of `trove import`: each runs the real binary (TROVE_CLI_PATH) on a small
// file in a fresh temporary directory, then opens the data directory in process to look at
// the items it made.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "trove/data/events.h"
#include "trove/data/state.h"
#include "trove/data/store.h"

namespace {

namespace fs = std::filesystem;
using trove::Item;
using trove::State;
using trove::Store;

using TempDir = trove::test::TempDir;

struct Run {
  int exit_code = -1;
  std::string err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// `trove import --data-dir <tmp>/d <args>`; stdout is unused by import.
Run import(const TempDir& tmp, const std::string& args, const std::string& stdin_from = "") {
  const std::string err_path = tmp.sub("stderr.txt");
  std::string cmd = quote(TROVE_CLI_PATH) + " import --data-dir " + quote(tmp.sub("d")) + " " +
                    args + " >/dev/null 2>" + quote(err_path);
  if (!stdin_from.empty()) cmd += " <" + quote(stdin_from);
  const int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  Run r;
  r.exit_code = WEXITSTATUS(status);
  r.err = read_text(err_path);
  return r;
}

// The number after `key` in the import summary ("imported    12").
uint64_t summary_value(const std::string& text, const std::string& key) {
  for (const std::string& l : lines_of(text)) {
    if (l.rfind(key + " ", 0) == 0)
      return std::stoull(l.substr(l.find_first_not_of(' ', key.size())));
  }
  FAIL("no `" << key << "` in:\n" << text);
  return 0;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Opens the data directory the binary wrote and runs fn on its state.
void with_state(const std::string& data_dir, const std::function<void(const State&)>& fn) {
  auto store = Store::open(data_dir);
  REQUIRE(store.ok());
  store.value()->read(fn);
}

std::optional<trove::ItemUpsert> item(const std::string& data_dir, const std::string& id) {
  std::optional<trove::ItemUpsert> out;
  with_state(data_dir, [&](const State& s) {
    if (const Item* it = s.item(id)) out = it->data;
  });
  return out;
}

std::string digest(const std::string& data_dir) {
  std::string d;
  with_state(data_dir, [&](const State& s) { d = s.digest(); });
  return d;
}

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("import reads RFC 4180 CSV: quoted delimiters, doubled quotes, embedded newlines",
          "[import]") {
  TempDir tmp;
  // CRLF line ends, a BOM, a quoted comma, doubled quotes, a newline inside quotes, an empty
  // cell (an absent field) and an empty line (skipped).
  write_text(tmp.sub("in.csv"),
             "\xEF\xBB\xBFid,title,description,brand\r\n"
             "a1,\"Mug, large\",\"He said \"\"hi\"\"\",Acme\r\n"
             "a2,Plate,\"two\nlines\",\r\n"
             "\r\n"
             "a3,\"\"\"Quoted\"\" title\",,\"\"\r\n");
  Run r = import(tmp, "--format csv " + quote(tmp.sub("in.csv")));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(summary_value(r.err, "rows") == 3);
  CHECK(summary_value(r.err, "imported") == 3);

  const auto a1 = item(tmp.sub("d"), "a1");
  REQUIRE(a1);
  CHECK(a1->title == "Mug, large");
  CHECK(a1->description == "He said \"hi\"");
  CHECK(a1->brand == "Acme");
  const auto a2 = item(tmp.sub("d"), "a2");
  REQUIRE(a2);
  CHECK(a2->description == "two\nlines");
  CHECK_FALSE(a2->brand.has_value());
  const auto a3 = item(tmp.sub("d"), "a3");
  REQUIRE(a3);
  CHECK(a3->title == "\"Quoted\" title");
  CHECK_FALSE(a3->description.has_value());
  CHECK_FALSE(a3->brand.has_value());
}

// The oracle is the encoder: random fields (delimiters, quotes, CR/LF, multi-byte text) are
// written per RFC 4180, quoted when they must be and sometimes when they need not be, with LF
// or CRLF record ends; the import must give back exactly those fields. Over 8 MiB, so records
// straddle the reader's block boundary.
TEST_CASE("import decodes random RFC 4180 CSV back to exactly the fields that were encoded",
          "[import]") {
  TempDir tmp;
  std::mt19937 rng(20240611);
  const std::vector<std::string> pieces = {
      "a",   "Z", " ",    ",", "\"", "\n", "\r\n", "é", "日", "\t", "x y", "''", "\xF0\x9F\x8D\xB5",
      "0.5", ";", "\"\"", "|"};
  const auto random_text = [&](size_t max_pieces) {
    std::string s;
    const size_t n = 1 + rng() % max_pieces;
    for (size_t i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
    return s;
  };
  const auto encode = [&](const std::string& f) {
    const bool must = f.find_first_of(",\"\r\n") != std::string::npos;
    if (!must && rng() % 4 != 0) return f;
    std::string q = "\"";
    for (char c : f) q.append(c == '"' ? 2 : 1, c);
    q.push_back('"');
    return q;
  };
  struct Row {
    std::string title, description;
  };
  std::vector<Row> rows;
  std::string csv = "id,title,description\n";
  while (csv.size() < (9u << 20)) {
    Row r{random_text(30), rng() % 5 == 0 ? std::string() : random_text(200)};
    csv.append("r").append(std::to_string(rows.size())).append(",").append(encode(r.title));
    csv.append(",").append(encode(r.description)).append(rng() % 2 ? "\r\n" : "\n");
    rows.push_back(std::move(r));
  }
  write_text(tmp.sub("in.csv"), csv);
  Run run = import(tmp, "--format csv " + quote(tmp.sub("in.csv")));
  INFO(run.err.substr(0, 2000));
  REQUIRE(run.exit_code == 0);
  REQUIRE(summary_value(run.err, "imported") == rows.size());
  with_state(tmp.sub("d"), [&](const State& s) {
    for (size_t i = 0; i < rows.size(); ++i) {
      const Item* it = s.item(std::string("r").append(std::to_string(i)));
      REQUIRE(it != nullptr);
      REQUIRE(it->data.title == rows[i].title);
      if (rows[i].description.empty()) {
        REQUIRE_FALSE(it->data.description.has_value());
      } else {
        REQUIRE(it->data.description == rows[i].description);
      }
    }
  });
}

TEST_CASE("import reports bad CSV rows by the line their record starts on and keeps the rest",
          "[import]") {
  TempDir tmp;
  write_text(tmp.sub("in.csv"),
             "id,title,price\n"               // line 1
             "g1,Good one,1.50\n"             // 2
             "g2,\"multi\nline\ntitle\",2\n"  // 3-5
             "b1,Bad price,abc\n"             // 6
             "g3,\"also\nmulti\",3\n"         // 7-8
             "b2,Ragged\n"                    // 9
             "b3,Bad \xE9 byte,4\n"           // 10
             "b4,,5\n"                        // 11: empty title
             "b5,\"bad\"quote,6\n"            // 12
             "g4,Last,7.25\n");               // 13
  Run r = import(tmp, "--format csv --errors-file " + quote(tmp.sub("errors.txt")) + " " +
                          quote(tmp.sub("in.csv")));
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(summary_value(r.err, "rows") == 9);
  CHECK(summary_value(r.err, "imported") == 4);
  CHECK(summary_value(r.err, "failed") == 5);

  const std::vector<std::string> expected = {
      "line 6: price: column \"price\": expected a decimal number such as 3.50, got \"abc\"",
      "line 9: row: expected 3 columns as in the header, found 2",
      "line 10: title: column \"title\": invalid UTF-8 (byte 0xE9 at offset 4 of the cell)",
      "line 11: title: column \"title\" is empty",
      "line 12: column 2: text after a closing quote (a quote inside a quoted field must be "
      "doubled)",
  };
  const auto errors = lines_of(read_text(tmp.sub("errors.txt")));
  CHECK(errors == expected);
  for (const std::string& e : expected) CHECK(contains(r.err, e + "\n"));

  for (const char* id : {"g1", "g2", "g3", "g4"}) CHECK(item(tmp.sub("d"), id).has_value());
  for (const char* id : {"b1", "b2", "b3", "b4", "b5"}) CHECK_FALSE(item(tmp.sub("d"), id));
  CHECK(item(tmp.sub("d"), "g2")->title == "multi\nline\ntitle");
  CHECK(item(tmp.sub("d"), "g4")->price == 7.25);
}

TEST_CASE("import --strict stops at the first bad row and keeps the rows before it", "[import]") {
  TempDir tmp;
  write_text(tmp.sub("in.csv"),
             "id,title,price\n"
             "g1,One,1\n"
             "g2,Two,2\n"
             "b1,Bad,x\n"
             "g3,Three,3\n"
             "b2,Bad,y\n");
  Run r = import(tmp, "--strict --format csv " + quote(tmp.sub("in.csv")));
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "line 4: price: "));
  CHECK_FALSE(contains(r.err, "line 6:"));
  CHECK(contains(r.err, "stopped at line 4 (--strict)"));
  CHECK(summary_value(r.err, "imported") == 2);
  CHECK(item(tmp.sub("d"), "g2").has_value());
  CHECK_FALSE(item(tmp.sub("d"), "g3").has_value());
}

TEST_CASE("import maps columns with --map and converts number, bool and list attributes",
          "[import]") {
  TempDir tmp;
  write_text(tmp.sub("in.csv"),
             "sku,name,cost,stock,cats,labels,year,hardcover,formats,note\n"
             "s1,Book,12.5,yes,Books > Fiction;Sale,new|hot,1999.0,true,paper|ebook,signed\n"
             "s2,Pen,0.99,0,Office,,2001,NO,,\n"
             "s3,Bad,1,maybe,,,,,,\n"
             "s4,Bad,1,1,,,MCMXC,,,\n");
  Run r = import(tmp,
                 "--format csv --list-separator ';' --map id=sku --map title=name "
                 "--map price=cost --map in_stock=stock --map categories=cats "
                 "--map tags=labels --map attributes.year:number=year "
                 "--map attributes.hardcover:bool=hardcover "
                 "--map attributes.formats:list=formats --map attributes.note=note " +
                     quote(tmp.sub("in.csv")));
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err,
                 "line 4: in_stock: column \"stock\": expected true, false, 1, 0, yes or "
                 "no, got \"maybe\""));
  CHECK(contains(r.err,
                 "line 5: attributes.year: column \"year\": expected a number, got "
                 "\"MCMXC\""));

  const auto s1 = item(tmp.sub("d"), "s1");
  REQUIRE(s1);
  CHECK(s1->title == "Book");
  CHECK(s1->price == 12.5);
  CHECK(s1->in_stock == true);
  CHECK(s1->categories == std::vector<std::string>{"Books > Fiction", "Sale"});
  // tags use the same separator: "new|hot" is one tag here.
  CHECK(s1->tags == std::vector<std::string>{"new|hot"});
  REQUIRE(s1->attributes);
  const trove::Attributes& a = *s1->attributes;
  CHECK(std::get<double>(a.at("year")) == 1999);
  CHECK(std::get<bool>(a.at("hardcover")) == true);
  // :list splits on --list-separator too, so "paper|ebook" stays one element.
  CHECK(std::get<std::vector<std::string>>(a.at("formats")) ==
        std::vector<std::string>{"paper|ebook"});
  CHECK(std::get<std::string>(a.at("note")) == "signed");

  const auto s2 = item(tmp.sub("d"), "s2");
  REQUIRE(s2);
  CHECK(s2->in_stock == false);
  CHECK_FALSE(s2->tags.has_value());  // empty cell: absent
  REQUIRE(s2->attributes);
  CHECK(std::get<bool>(s2->attributes->at("hardcover")) == false);
  CHECK(s2->attributes->count("formats") == 0);
}

TEST_CASE("import refuses unknown fields and missing columns before importing anything",
          "[import]") {
  TempDir tmp;
  write_text(tmp.sub("in.csv"), "sku,name\ns1,Book\n");
  Run unknown = import(tmp, "--format csv --map colour=name " + quote(tmp.sub("in.csv")));
  CHECK(unknown.exit_code == 2);
  CHECK(contains(unknown.err, "unknown item field \"colour\""));

  Run missing = import(tmp, "--format csv --map title=nme " + quote(tmp.sub("in.csv")));
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.err, "no column \"nme\" in the header (columns: sku, name)"));

  write_text(tmp.sub("noid.csv"), "ref,name\nr1,Book\n");
  Run noid = import(tmp, "--format csv " + quote(tmp.sub("noid.csv")));
  CHECK(noid.exit_code == 2);
  CHECK(contains(noid.err, "--map id=COLUMN"));
}

TEST_CASE("import reads JSONL with nested paths, arrays, numbers as ids and null as absent",
          "[import]") {
  TempDir tmp;
  write_text(
      tmp.sub("in.jsonl"),
      R"({"id":101,"name":"Tea","info":{"maker":{"name":"Leaf Co"}},"cats":["Drinks > Tea","Organic"],"price":"3.50","in_stock":true,"meta":{"weight":250,"vegan":true,"origins":["CN","IN"]}})"
      "\n"
      "\n"
      R"({"id":"102","name":"Coffee","info":null,"cats":"Drinks|Hot","price":4,"description":null})"
      "\n"
      R"({"id":"103","name":"Bad","price":{"amount":1}})"
      "\n"
      "not json\n"
      R"(["an","array"])"
      "\n"
      R"({"id":"104"})"
      "\n");
  Run r = import(tmp,
                 "--format jsonl --map brand=info.maker.name --map categories=cats "
                 "--map attributes.weight=meta.weight --map attributes.vegan=meta.vegan "
                 "--map attributes.origins=meta.origins " +
                     quote(tmp.sub("in.jsonl")));
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(summary_value(r.err, "rows") == 6);
  CHECK(summary_value(r.err, "imported") == 2);
  CHECK(contains(r.err,
                 "line 4: price: key \"price\": expected a decimal number such as 3.50, "
                 "got an object\n"));
  CHECK(contains(r.err, "line 5: row: invalid JSON"));
  CHECK(contains(r.err, "line 6: row: expected a JSON object, got an array\n"));
  CHECK(contains(r.err,
                 "line 7: title: missing: none of the keys title, name, Description, "
                 "original_title is present\n"));

  const auto tea = item(tmp.sub("d"), "101");
  REQUIRE(tea);
  CHECK(tea->title == "Tea");
  CHECK(tea->brand == "Leaf Co");
  CHECK(tea->categories == std::vector<std::string>{"Drinks > Tea", "Organic"});
  CHECK(tea->price == 3.5);
  CHECK(tea->in_stock == true);
  REQUIRE(tea->attributes);
  CHECK(std::get<double>(tea->attributes->at("weight")) == 250);
  CHECK(std::get<bool>(tea->attributes->at("vegan")) == true);
  CHECK(std::get<std::vector<std::string>>(tea->attributes->at("origins")) ==
        std::vector<std::string>{"CN", "IN"});

  const auto coffee = item(tmp.sub("d"), "102");
  REQUIRE(coffee);
  CHECK_FALSE(coffee->brand.has_value());
  CHECK_FALSE(coffee->description.has_value());
  CHECK(coffee->categories == std::vector<std::string>{"Drinks", "Hot"});
  CHECK(coffee->price == 4);
}

TEST_CASE("re-running the same import changes nothing: same digest, every row unchanged",
          "[import]") {
  TempDir tmp;
  write_text(tmp.sub("in.csv"),
             "id,title,price\n"
             "x1,One,1\n"
             "x2,Two,2\n"
             "x1,One,1\n"  // the same row twice: its second copy is already there
             "x3,Three,3\n");
  Run first = import(tmp, "--format csv " + quote(tmp.sub("in.csv")));
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(summary_value(first.err, "imported") == 3);
  CHECK(summary_value(first.err, "unchanged") == 1);
  const std::string before = digest(tmp.sub("d"));

  Run again = import(tmp, "--format csv " + quote(tmp.sub("in.csv")));
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(summary_value(again.err, "rows") == 4);
  CHECK(summary_value(again.err, "imported") == 0);
  CHECK(summary_value(again.err, "unchanged") == 4);
  CHECK(digest(tmp.sub("d")) == before);

  // The key is "import:" + XXH3-64 of the event's canonical JSON without id and timestamp.
  trove::Event ev;
  ev.body = trove::ItemUpsert{.id = "x2", .title = "Two", .price = 2.0};
  const std::string json = trove::serialize_event(ev);
  char key[40];
  std::snprintf(key, sizeof key, "import:%016llx",
                static_cast<unsigned long long>(XXH3_64bits(json.data(), json.size())));
  with_state(tmp.sub("d"), [&](const State& s) { CHECK(s.seq_of_event_id(key).has_value()); });

  // A changed row is a new event; the unchanged ones stay unchanged.
  write_text(tmp.sub("in2.csv"), "id,title,price\nx1,One,1\nx2,Two,2.5\n");
  Run changed = import(tmp, "--format csv " + quote(tmp.sub("in2.csv")));
  CHECK(summary_value(changed.err, "imported") == 1);
  CHECK(summary_value(changed.err, "unchanged") == 1);
  CHECK(item(tmp.sub("d"), "x2")->price == 2.5);
}

TEST_CASE("import streams a .zst file and refuses a truncated one", "[import]") {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text +=
        R"({"code":"c)" + std::to_string(i) + R"(","name":"Product )" + std::to_string(i) + "\"}\n";
  }
  std::string z(ZSTD_compressBound(text.size()), '\0');
  const size_t n = ZSTD_compress(z.data(), z.size(), text.data(), text.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(n));
  z.resize(n);
  write_text(tmp.sub("in.jsonl.zst"), z);
  Run r = import(tmp, "--format jsonl " + quote(tmp.sub("in.jsonl.zst")));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(summary_value(r.err, "imported") == 5000);
  CHECK(item(tmp.sub("d"), "c4999")->title == "Product 4999");

  write_text(tmp.sub("cut.jsonl.zst"), z.substr(0, z.size() / 2));
  Run cut = import(tmp, "--format jsonl " + quote(tmp.sub("cut.jsonl.zst")));
  CHECK(cut.exit_code == 2);
  CHECK(contains(cut.err, "cut.jsonl.zst"));
}

TEST_CASE("import reads stdin when FILE is -", "[import]") {
  TempDir tmp;
  write_text(tmp.sub("in.csv"), "id,title\nk1,Kettle\n");
  Run r = import(tmp, "--format csv -", tmp.sub("in.csv"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(item(tmp.sub("d"), "k1")->title == "Kettle");
  CHECK_FALSE(contains(r.err, "\033["));  // no progress bar when stderr is not a terminal
}

TEST_CASE("import fails a title over 1000 characters unless --truncate cuts it on a character",
          "[import]") {
  TempDir tmp;
  // Two-byte characters, so a cut at a byte count would split one.
  const std::string at_limit = repeat("\xC3\xA9", 1000);
  const std::string over = repeat("\xC3\xA9", 1001);
  write_text(tmp.sub("in.csv"), "id,title\nok," + at_limit + "\nlong," + over + "\n");
  Run r = import(tmp, "--format csv " + quote(tmp.sub("in.csv")));
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err,
                 "line 3: title: column \"title\": over the limit of 1000 characters "
                 "(1001; --truncate cuts it)"));
  CHECK(item(tmp.sub("d"), "ok")->title == at_limit);  // the data module accepts the limit
  CHECK_FALSE(item(tmp.sub("d"), "long").has_value());

  Run cut = import(tmp, "--truncate --format csv " + quote(tmp.sub("in.csv")));
  INFO(cut.err);
  CHECK(cut.exit_code == 0);
  CHECK(item(tmp.sub("d"), "long")->title == at_limit);
}

TEST_CASE("import shows the first 100 bad rows on stderr, counts the rest, and files them all",
          "[import]") {
  TempDir tmp;
  std::string csv = "id,title,price\n";
  for (int i = 0; i < 150; ++i) csv.append("b").append(std::to_string(i)).append(",Bad,nope\n");
  csv += "g,Good,1\n";
  write_text(tmp.sub("in.csv"), csv);
  Run r = import(tmp, "--format csv --errors-file " + quote(tmp.sub("errors.txt")) + " " +
                          quote(tmp.sub("in.csv")));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "line 101: price:"));
  CHECK_FALSE(contains(r.err, "line 102: price:"));
  CHECK(contains(r.err, "... and 50 more (all of them are in "));
  CHECK(contains(r.err,
                 "      150  price: column \"price\": expected a decimal number such as "
                 "3.50\n"));
  const auto errors = lines_of(read_text(tmp.sub("errors.txt")));
  REQUIRE(errors.size() == 150);
  CHECK(errors.back().rfind("line 151: price:", 0) == 0);
  CHECK(item(tmp.sub("d"), "g").has_value());
}

TEST_CASE("goodbooks books.csv imports with the default mapping and mapped attributes",
          "[import][data]") {
  const std::string books = trove::test::shared_data("goodbooks-10k/books.csv");
  if (!fs::exists(books)) {
    WARN("skipped: " << books << " is absent");
    return;
  }
  TempDir tmp;
  // --truncate: six books list more than 256 characters of authors (the brand limit).
  Run r = import(tmp,
                 "--format csv --truncate --map attributes.year:number="
                 "original_publication_year --map attributes.isbn=isbn " +
                     quote(books));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(summary_value(r.err, "rows") == 10000);
  CHECK(summary_value(r.err, "imported") == 10000);

  const auto hunger = item(tmp.sub("d"), "1");
  REQUIRE(hunger);
  CHECK(hunger->title == "The Hunger Games (The Hunger Games, #1)");
  CHECK(hunger->brand == "Suzanne Collins");
  REQUIRE(hunger->attributes);
  CHECK(std::get<double>(hunger->attributes->at("year")) == 2008);
  CHECK(std::get<std::string>(hunger->attributes->at("isbn")) == "439023483");
  CHECK(hunger->image_url == "https://images.gr-assets.com/books/1447303603m/2767052.jpg");
  const auto potter = item(tmp.sub("d"), "2");
  REQUIRE(potter);
  CHECK(potter->title == "Harry Potter and the Sorcerer's Stone (Harry Potter, #1)");
  CHECK(potter->brand == "J.K. Rowling, Mary GrandPr\xC3\xA9");
}
