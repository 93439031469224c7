//! Tests of model resolution, the built-in table and models files.

#![allow(unused_imports)] // each test module below is compiled under its own features

use super::*;
use crate::template::media::QwenVision;
use crate::tokens::Vocabulary;

/// Model names whose vocabulary this build leaves out.
#[cfg(all(test, not(feature = "vocab-qwen2_5")))]
#[allow(clippy::unwrap_used)]
mod not_compiled_tests {
    use super::*;

    fn assert_names_feature(err: Error, name: &str) {
        assert_eq!(
            err,
            Error::VocabularyNotCompiled {
                name: name.to_string(),
                vocabulary: "qwen2.5".to_string(),
                feature: "vocab-qwen2_5".to_string(),
            }
        );
    }

    #[test]
    fn names_of_left_out_vocabularies_are_typed_errors() {
        for name in ["qwen-max", "qwen2.5-72b-instruct"] {
            assert_names_feature(Model::resolve(name).unwrap_err(), name);
        }
        let spec = ModelSpec::new(Vocabulary::Qwen25, Family::Qwen3).with_name("my-qwen");
        assert_names_feature(Model::register(spec).unwrap_err(), "my-qwen");
        assert!(Model::resolve("my-qwen").is_err());
        let text = r#"{"models": [{"name": "m", "vocabulary": "qwen2.5", "template": "qwen3",
            "window": 5000}]}"#;
        let err = models_from_json(text, ".".as_ref(), "models.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`vocab-qwen2_5`"), "{err}");
    }
}

#[cfg(all(test, feature = "all-vocabularies"))]
#[allow(clippy::unwrap_used)]
mod with_all_vocabularies {
    use super::*;
    use Family::{DeepSeek, DeepSeekV4, OpenAi, Qwen25, Qwen3};
    use Vocabulary::{Cl100kBase, DeepseekV3, O200kBase, Qwen25 as QwenVocab, Qwen35};

    #[test]
    fn table() {
        let cases = [
            ("gpt-4o", O200kBase, OpenAi),
            ("gpt-4o-mini", O200kBase, OpenAi),
            ("gpt-4.1-nano", O200kBase, OpenAi),
            ("gpt-4", Cl100kBase, OpenAi),
            ("gpt-4-0613", Cl100kBase, OpenAi),
            ("gpt-3.5-turbo", Cl100kBase, OpenAi),
            ("gpt-5", O200kBase, OpenAi),
            ("gpt-5-mini", O200kBase, OpenAi),
            ("gpt-5.1", O200kBase, OpenAi),
            ("o1", O200kBase, OpenAi),
            ("o3-mini", O200kBase, OpenAi),
            ("o4-mini", O200kBase, OpenAi),
            ("deepseek-v4-flash", DeepseekV3, DeepSeekV4),
            ("deepseek-v4-pro", DeepseekV3, DeepSeekV4),
            ("deepseek-chat", DeepseekV3, DeepSeekV4),
            ("deepseek-reasoner", DeepseekV3, DeepSeekV4),
            ("deepseek-v3.1", DeepseekV3, DeepSeek),
            ("qwen-plus", QwenVocab, Qwen3),
            ("qwen-max-latest", QwenVocab, Qwen3),
            ("qwen-turbo", QwenVocab, Qwen3),
            ("qwen-flash", QwenVocab, Qwen3),
            ("qwen3-max", QwenVocab, Qwen3),
            ("qwen3.6-plus", Qwen35, Qwen3),
            ("qwen2.5-72b-instruct", QwenVocab, Qwen25),
            ("qwen3-8b", QwenVocab, Qwen3),
            ("qwen3.5-27b", Qwen35, Qwen3),
            ("qwen3.6-35b-a3b", Qwen35, Qwen3),
            ("qwen-vl-max", QwenVocab, Qwen25),
            ("qwen3-vl-plus", QwenVocab, Qwen3),
        ];
        for (name, vocabulary, template) in cases {
            let spec = Model::resolve(name).unwrap().spec;
            assert_eq!(
                (spec.vocabulary, spec.template),
                (vocabulary, template),
                "{name}"
            );
        }
        assert_eq!(
            Model::resolve("deepseek-v4-flash").unwrap().spec.window,
            1_048_576
        );
        assert_eq!(
            Model::resolve("qwen3-vl-plus").unwrap().spec.vision,
            Some(QwenVision::QWEN3_VL)
        );
    }

    #[test]
    fn retired_aliases_keep_their_mode() {
        let chat = Model::resolve("deepseek-chat").unwrap().spec;
        let reasoner = Model::resolve("deepseek-reasoner").unwrap().spec;
        assert_eq!(
            (chat.thinking, reasoner.thinking),
            (Some(false), Some(true))
        );
        let flash = Model::resolve("deepseek-v4-flash").unwrap().spec;
        assert_eq!(flash.thinking, Some(true));
        assert_eq!(chat.pricing, flash.pricing);
    }

    #[test]
    fn unknown_lists_the_closest_names() {
        match Model::resolve("gpt5-mini") {
            Err(Error::UnknownModel { name, known }) => {
                assert_eq!(name, "gpt5-mini");
                assert!(known.len() <= 6, "{known:?}");
                assert!(known.iter().any(|k| k.starts_with("gpt-5")), "{known:?}");
            }
            other => panic!("expected UnknownModel, got {other:?}"),
        }
        match Model::resolve("deepsek-v4-flash") {
            Err(Error::UnknownModel { known, .. }) => {
                assert_eq!(known[0], "deepseek-v4-flash*", "{known:?}")
            }
            other => panic!("expected UnknownModel, got {other:?}"),
        }
    }

    #[test]
    fn exact_names_beat_prefixes() {
        Model::register(
            ModelSpec::new(O200kBase, OpenAi)
                .with_window(777)
                .with_max_output(7)
                .with_name("unit-test-exact"),
        )
        .unwrap();
        Model::register(
            ModelSpec::new(O200kBase, OpenAi)
                .with_window(999)
                .with_max_output(9)
                .with_name("unit-test-*"),
        )
        .unwrap();
        assert_eq!(Model::resolve("unit-test-exact").unwrap().spec.window, 777);
        assert_eq!(Model::resolve("unit-test-exact2").unwrap().spec.window, 999);
        assert!(Model::register(ModelSpec::new(O200kBase, OpenAi)).is_err());
        assert!(Model::register(ModelSpec::new(O200kBase, OpenAi).with_name("a*b")).is_err());
    }

    #[test]
    fn thinking_field() {
        let fields = |json: &str| -> Map<String, Value> { serde_json::from_str(json).unwrap() };
        assert_eq!(thinking_of(&fields("{}")).unwrap(), None);
        assert_eq!(
            thinking_of(&fields(r#"{"thinking":{"type":"enabled"}}"#)).unwrap(),
            Some(true)
        );
        assert_eq!(
            thinking_of(&fields(r#"{"thinking":false}"#)).unwrap(),
            Some(false)
        );
        let bad = fields(r#"{"thinking":{"type":"on"}}"#);
        let err = thinking_of(&bad).unwrap_err();
        assert!(err.to_string().contains("thinking"), "{err}");
        // only templates with a thinking switch care
        assert!(Model::resolve("deepseek-v4-pro")
            .unwrap()
            .for_request(&bad)
            .is_err());
        assert!(Model::resolve("gpt-5").unwrap().for_request(&bad).is_ok());
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("gpt-5", "gpt-5"), 0);
    }
}
