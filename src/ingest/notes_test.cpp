#include "caliper/ingest/notes.h"

#include <gtest/gtest.h>

#include <sstream>

namespace caliper::ingest {
namespace {

std::vector<NoteRecord> ReadAll(NoteFormat format, const std::string& data, NoteReaderOptions options = {}) {
  std::istringstream in(data);
  auto reader = NoteReader::Create(format, in, options);
  std::vector<NoteRecord> out;
  NoteRecord r;
  while (reader->Next(r)) out.push_back(r);
  return out;
}

TEST(NoteFormat, ByNameAndExtension) {
  EXPECT_EQ(*ParseNoteFormat("JSONL"), NoteFormat::kJsonl);
  EXPECT_EQ(*NoteFormatOfPath("/x/notes.CSV"), NoteFormat::kCsv);
  EXPECT_EQ(*NoteFormatOfPath("a.b/note.txt"), NoteFormat::kText);
  EXPECT_EQ(*NoteFormatOfPath("n.ndjson"), NoteFormat::kJsonl);
  EXPECT_FALSE(NoteFormatOfPath("notes.docx").ok());
  EXPECT_FALSE(NoteFormatOfPath("dir.d/notes").ok());
}

TEST(NoteReaderJsonl, FieldsMetadataAndPerLineErrors) {
  const std::string data =
      "{\"id\":\"n1\",\"patient\":\"P1\",\"text\":\"Seen today.\",\"type\":\"progress\",\"site\":{\"ward\":3}}\n"
      "\n"
      "not json\n"
      "{\"id\":7,\"patient\":12,\"text\":\"Caf\xC3\xA9.\"}\r\n"
      "{\"id\":\"n3\",\"patient\":\"P1\"}\n"
      "{\"id\":\"n4\",\"text\":\"bad \xFF byte\"}\n"
      "{\"id\":[1],\"text\":\"x\"}\n"
      "{\"id\":\"n5\",\"text\":3}\n"
      "{\"id\":\"n6\",\"patient\":\"P2\",\"text\":\"last, no newline\"}";
  auto records = ReadAll(NoteFormat::kJsonl, data);
  ASSERT_EQ(records.size(), 8u);
  EXPECT_TRUE(records[0].status.ok());
  EXPECT_EQ(records[0].id, "n1");
  EXPECT_EQ(records[0].patient, "P1");
  EXPECT_EQ(records[0].text, "Seen today.");
  EXPECT_EQ(records[0].metadata_json, R"({"site":{"ward":3},"type":"progress"})");
  EXPECT_EQ(records[0].number, 1u);
  EXPECT_EQ(records[0].line, 1u);
  // The blank line is skipped; the bad one is an error record that names its line.
  EXPECT_EQ(records[1].status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(records[1].status.message().find("line 3"), std::string::npos) << records[1].status.message();
  EXPECT_EQ(records[1].number, 2u);
  // Numbers are accepted as ids; a CRLF line end is fine.
  EXPECT_TRUE(records[2].status.ok()) << records[2].status.ToString();
  EXPECT_EQ(records[2].id, "7");
  EXPECT_EQ(records[2].patient, "12");
  EXPECT_EQ(records[2].text, "Caf\xC3\xA9.");
  EXPECT_NE(records[3].status.message().find("'text' is missing"), std::string::npos);
  EXPECT_NE(records[4].status.message().find("invalid UTF-8"), std::string::npos) << records[4].status.message();
  EXPECT_NE(records[5].status.message().find("'id' must be a string"), std::string::npos);
  EXPECT_NE(records[6].status.message().find("'text' must be a string"), std::string::npos);
  EXPECT_TRUE(records[7].status.ok());
  EXPECT_EQ(records[7].text, "last, no newline");
  EXPECT_EQ(records[7].line, 9u);
}

TEST(NoteReaderJsonl, AnOverlongLineIsSkippedAndTheNextIsRead) {
  NoteReaderOptions options;
  options.max_note_bytes = 100;
  // The line limit is twice the note limit plus 1 MiB: go well past it.
  const std::string huge(3 << 20, 'a');
  const std::string data = "{\"id\":\"big\",\"text\":\"" + huge + "\"}\n" +
                           "{\"id\":\"small\",\"patient\":\"p\",\"text\":\"" + std::string(150, 'b') + "\"}\n" +
                           "{\"id\":\"ok\",\"patient\":\"p\",\"text\":\"fine\"}\n";
  auto records = ReadAll(NoteFormat::kJsonl, data, options);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].status.code(), ErrorCode::kPayloadTooLarge);
  EXPECT_TRUE(records[0].text.empty());
  EXPECT_EQ(records[1].status.code(), ErrorCode::kPayloadTooLarge);  // within the line limit, over the note limit
  EXPECT_TRUE(records[2].status.ok());
  EXPECT_EQ(records[2].line, 3u);
}

TEST(NoteReaderCsv, QuotedFieldsLineBreaksAndBadRecords) {
  const std::string data =
      "\xEF\xBB\xBFId,Patient,Text,Service\r\n"
      "n1,P1,\"Line one,\r\nline \"\"two\"\"\",cardiology\r\n"
      "n2,P2,too,many,fields\n"
      "\n"
      "n3,P3,plain,ed\n"
      "n4,P4,\"unterminated\n";
  auto records = ReadAll(NoteFormat::kCsv, data);
  ASSERT_EQ(records.size(), 4u);
  ASSERT_TRUE(records[0].status.ok()) << records[0].status.ToString();
  EXPECT_EQ(records[0].id, "n1");
  EXPECT_EQ(records[0].patient, "P1");
  EXPECT_EQ(records[0].text, "Line one,\r\nline \"two\"");
  EXPECT_EQ(records[0].metadata_json, R"({"service":"cardiology"})");
  EXPECT_EQ(records[0].line, 2u);
  EXPECT_NE(records[1].status.message().find("has 5 fields; the header has 4"), std::string::npos)
      << records[1].status.message();
  EXPECT_EQ(records[1].line, 4u);
  EXPECT_TRUE(records[2].status.ok());
  EXPECT_EQ(records[2].text, "plain");
  EXPECT_EQ(records[2].line, 6u);
  EXPECT_NE(records[3].status.message().find("never closed"), std::string::npos);
}

TEST(NoteReaderCsv, HeaderWithoutTextColumnIsOneError) {
  auto records = ReadAll(NoteFormat::kCsv, "id,patient,body\n1,2,3\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0].status.message().find("no 'text' column"), std::string::npos);
  EXPECT_EQ(ReadAll(NoteFormat::kCsv, "").size(), 1u);
}

TEST(NoteReaderText, WholeFileIsOneNoteWithinTheLimit) {
  NoteReaderOptions options;
  options.text_id = "note-9";
  options.text_patient = "P9";
  auto records = ReadAll(NoteFormat::kText, "Line 1\nLine 2\n", options);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].text, "Line 1\nLine 2\n");
  EXPECT_EQ(records[0].id, "note-9");
  EXPECT_EQ(records[0].patient, "P9");
  options.max_note_bytes = 10;
  records = ReadAll(NoteFormat::kText, std::string(11, 'x'), options);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].status.code(), ErrorCode::kPayloadTooLarge);
  EXPECT_TRUE(ReadAll(NoteFormat::kText, std::string(10, 'x'), options)[0].status.ok());
}

TEST(CheckNoteText, EmptyControlCharactersAndUtf8) {
  EXPECT_TRUE(CheckNoteText("Tab\there, form feed\f, CRLF\r\n, \xC3\xA9 \xE2\x82\xAC").ok());
  EXPECT_NE(CheckNoteText("").message().find("empty"), std::string::npos);
  EXPECT_NE(CheckNoteText(" \n\t ").message().find("empty"), std::string::npos);
  // Offsets are code points: "é" is one.
  Status s = CheckNoteText("\xC3\xA9" "ab\x01");
  EXPECT_NE(s.message().find("U+0001 at code point 3"), std::string::npos) << s.message();
  EXPECT_NE(CheckNoteText(std::string("a\0b", 3)).message().find("U+0000 at code point 1"), std::string::npos);
  EXPECT_NE(CheckNoteText("a\x7F").message().find("U+007F"), std::string::npos);
  EXPECT_NE(CheckNoteText("a\xC2\x85").message().find("U+0085"), std::string::npos);  // C1 NEL
  EXPECT_TRUE(CheckNoteText("a\xC2\xA0" "b").ok());                                   // NBSP is text
  EXPECT_NE(CheckNoteText("a\xC0\xAF").message().find("invalid UTF-8"), std::string::npos);
}

}  // namespace
}  // namespace caliper::ingest
