//! Reading every page of a List call (AIP-158 pagination: a page's `next_page_token` asks
//! for the next one, empty on the last).
//!
//! A listing that cannot be read to its end is an error, never a shorter list: a script
//! reading `dpuctl list` must not take a partial answer for the whole one.

use std::future::Future;

use tonic::Status;

/// Most pages one listing reads: the agent's pages hold up to 1,000 objects (and 1 MiB),
/// so this is far past any real listing and only stops an agent that never ends one.
pub const MAX_PAGES: usize = 10_000;

/// Every object of a listing, `page(token)` reading one page as (objects, next token).
/// Errors when the agent answers a token with itself (it would never end) or the
/// listing runs past [`MAX_PAGES`].
pub async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, Status>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), Status>>,
{
    let mut all = Vec::new();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let (objects, next) = page(token.clone()).await?;
        all.extend(objects);
        if next.is_empty() {
            return Ok(all);
        }
        if next == token {
            return Err(Status::internal(format!(
                "the agent answered page token {token:?} with itself; the listing would not end"
            )));
        }
        token = next;
    }
    Err(Status::resource_exhausted(format!(
        "the listing did not end within {MAX_PAGES} pages; nothing printed rather than a part"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing of `pages` pages of two objects each, ending properly; `stuck` answers
    /// the second page's token with itself.
    fn listing(
        pages: usize,
        stuck: bool,
    ) -> impl FnMut(String) -> std::future::Ready<Result<(Vec<usize>, String), Status>> {
        move |token| {
            let n: usize = if token.is_empty() { 0 } else { token.parse().unwrap() };
            let next = if stuck && n == 1 {
                token
            } else if n + 1 < pages {
                (n + 1).to_string()
            } else {
                String::new()
            };
            std::future::ready(Ok((vec![2 * n, 2 * n + 1], next)))
        }
    }

    #[tokio::test]
    async fn every_page_is_read_in_order() {
        assert_eq!(all_pages(listing(3, false)).await.unwrap(), [0, 1, 2, 3, 4, 5]);
        assert_eq!(all_pages(listing(1, false)).await.unwrap(), [0, 1]);
        assert_eq!(all_pages(listing(MAX_PAGES, false)).await.unwrap().len(), 2 * MAX_PAGES);
    }

    #[tokio::test]
    async fn a_listing_that_does_not_end_is_an_error_not_a_part() {
        let e = all_pages(listing(3, true)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::Internal, "{e}");
        assert!(e.message().contains("\"1\""), "{e}");
        let e = all_pages(listing(MAX_PAGES + 1, false)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{e}");
    }

    #[tokio::test]
    async fn an_error_of_any_page_is_the_listing_s() {
        let mut calls = 0;
        let failing = |token: String| {
            calls += 1;
            std::future::ready(if token.is_empty() {
                Ok((vec![1], "next".to_owned()))
            } else {
                Err(Status::unavailable("gone"))
            })
        };
        assert_eq!(all_pages(failing).await.unwrap_err().code(), tonic::Code::Unavailable);
        assert_eq!(calls, 2);
    }
}
